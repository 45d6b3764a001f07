#!/usr/bin/env bash
# make-dataset.sh DIR -- builds DIR/flags/{cc}/{cc}.gif (cc lowercase, the
# book's layout) for the 194 codes of data/country_codes.txt, converting the
# real flag images of Debian's iso-flags-png-320x240 to GIF with ImageMagick.
# Idempotent: a GIF newer than its source PNG is kept. Exits 1 with one line
# per missing source image (nothing is half-written: each GIF is converted to
# a temporary name and renamed), 2 on bad usage.
set -euo pipefail

SRC_DIR=${FLAGS_PNG_DIR:-/usr/share/iso-flags-png-320x240}
CONVERT=/usr/bin/convert # the real ImageMagick: /usr/local/bin/convert may be a fake
CODES="$(dirname "$0")/../data/country_codes.txt"

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: make-dataset.sh DIR" >&2
  exit 2
fi
dir=$1
[ -x "$CONVERT" ] || { echo "make-dataset.sh: $CONVERT not found (apt-get install imagemagick)" >&2; exit 1; }
[ -r "$CODES" ] || { echo "make-dataset.sh: cannot read $CODES" >&2; exit 1; }
[ -d "$SRC_DIR" ] || { echo "make-dataset.sh: $SRC_DIR not found (apt-get install iso-flags-png-320x240)" >&2; exit 1; }

missing=0 made=0 kept=0
for cc in $(tr -s ' \n' '\n\n' <"$CODES" | tr 'A-Z' 'a-z'); do
  src=$SRC_DIR/$cc.png
  out=$dir/flags/$cc/$cc.gif
  if [ ! -r "$src" ]; then
    echo "make-dataset.sh: missing source image $src" >&2
    missing=$((missing + 1))
    continue
  fi
  if [ -s "$out" ] && [ "$out" -nt "$src" ]; then
    kept=$((kept + 1))
    continue
  fi
  mkdir -p "$dir/flags/$cc"
  "$CONVERT" "$src" "gif:$out.tmp"
  mv -f "$out.tmp" "$out"
  made=$((made + 1))
done
echo "make-dataset.sh: $made converted, $kept up to date, $missing missing, in $dir/flags" >&2
[ "$missing" -eq 0 ]
