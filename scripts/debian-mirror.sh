#!/usr/bin/env bash
# debian-mirror.sh -- prints the Debian mirror this machine's apt reads
# bookworm from, so that scripts which need Debian's registry outside apt's
# own configuration (debootstrap in fresh-check.sh, the bookworm-backports
# libcurl in setup.sh --libcurl8) use the same one and name none of their own.
# Reads deb822 .sources stanzas whose Suites name bookworm (and are not
# Enabled: no), then one-line 'deb URL bookworm ...' entries.
# Exit status: 0 and one URL on stdout; 1 when no source names bookworm.
set -euo pipefail

{
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             /(^|\n)Suites:[^\n]*(^| )bookworm( |$|\n)/ && !/Enabled: *no/ {
                 for (i = 1; i <= NF; i++)
                     if ($i ~ /^URIs:/) { sub(/^URIs: */, "", $i); split($i, u, " "); print u[1]; exit }
             }' "$f"
    done
    { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
        awk '$1 == "deb" && $0 ~ / bookworm / {
                 for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit }
             }'
} | awk 'NR == 1 { print; found = 1 } END { exit !found }'
