#!/usr/bin/env bash
# server_certs: scripts/make-certs.sh (interface T1): what each file is, as
# `openssl verify` and `openssl x509` see it; modes; idempotence, --force and
# --rsa; usage errors exit 2.
# Usage: certs.sh PATH/TO/tests/lib.sh
# shellcheck source=tests/lib.sh
source "$1"
fb_need openssl:openssl
MAKE="$(cd "$(dirname "$1")/.." && pwd)/scripts/make-certs.sh"
D=$FB_TMP/certs

fb_ok "make-certs.sh DIR exits 0" "$MAKE" "$D"
for f in ca.pem ca.key server.pem server.key other-ca.pem wrongname.pem wrongname.key expired.pem expired.key; do
  fb_ok "$f exists" test -s "$D/$f"
done
fb_eq "DIR is mode 700" "$(stat -c %a "$D")" 700
fb_eq "keys are mode 600" "$(stat -c %a "$D"/*.key | sort -u)" 600
fb_eq "nothing else is left in DIR" "$(ls -A "$D" | wc -l)" 9
verify() { openssl verify -CAfile "$1" "$2" 2>&1 | tail -n 1; }
fb_eq "server.pem verifies against ca.pem" "$(verify "$D/ca.pem" "$D/server.pem")" "$D/server.pem: OK"
fb_ok "... not against other-ca.pem" bash -c "! openssl verify -CAfile '$D/other-ca.pem' '$D/server.pem' >/dev/null 2>&1"
fb_ok "expired.pem fails as expired" bash -c "openssl verify -CAfile '$D/ca.pem' '$D/expired.pem' 2>&1 | grep -q 'certificate has expired'"
fb_eq "wrongname.pem verifies against ca.pem (only its name is wrong)" \
  "$(verify "$D/ca.pem" "$D/wrongname.pem")" "$D/wrongname.pem: OK"
san() { openssl x509 -in "$1" -noout -ext subjectAltName | tail -n 1 | tr -d ' '; }
fb_eq "server.pem SAN" "$(san "$D/server.pem")" "IPAddress:127.0.0.1,IPAddress:198.18.0.1,DNS:localhost"
fb_eq "expired.pem SAN" "$(san "$D/expired.pem")" "IPAddress:127.0.0.1,DNS:localhost"
fb_eq "wrongname.pem SAN: no IP" "$(san "$D/wrongname.pem")" "DNS:wrong.invalid"
fb_ok "server.pem is valid for more than 29 days" openssl x509 -in "$D/server.pem" -noout -checkend $((29 * 86400))
fb_ok "server.pem expires within 31 days" bash -c "! openssl x509 -in '$D/server.pem' -noout -checkend $((31 * 86400)) >/dev/null"
fb_ok "server.key is ECDSA P-256" bash -c "openssl pkey -in '$D/server.key' -noout -text | grep -q 'ASN1 OID: prime256v1'"
fb_ok "the CA's subject" bash -c "openssl x509 -in '$D/ca.pem' -noout -subject | grep -q 'CN = flagbench test CA'"
fb_ok "server.key matches server.pem" bash -c \
  "[ \"\$(openssl x509 -in '$D/server.pem' -noout -pubkey)\" = \"\$(openssl pkey -in '$D/server.key' -pubout)\" ]"

before=$(md5sum "$D/server.pem")
out=$("$MAKE" "$D" 2>&1)
fb_eq "a second run does nothing and prints nothing" "$out|$(md5sum "$D/server.pem")" "|$before"
"$MAKE" "$D" --force
fb_ok "--force makes a new server.pem" test "$(md5sum "$D/server.pem")" != "$before"
"$MAKE" "$D" --rsa 2048
fb_ok "--rsa 2048 replaces an ECDSA server key with RSA 2048" bash -c \
  "openssl pkey -in '$D/server.key' -noout -text | grep -q 'Private-Key: (2048 bit'"
fb_eq "... and server.pem still verifies" "$(verify "$D/ca.pem" "$D/server.pem")" "$D/server.pem: OK"

for args in "" "--rsa" "--rsa abc $D" "--rsa 512 $D" "$D $D" "--nope $D"; do
  # shellcheck disable=SC2086
  out=$("$MAKE" $args 2>&1); rc=$?
  fb_eq "make-certs.sh $args: exit 2, one line" "$rc|$(wc -l <<<"$out")" "2|1"
done
: >"$FB_TMP/afile"
out=$("$MAKE" "$FB_TMP/afile" 2>/dev/null); rc=$?
fb_eq "DIR that is a file: exit 1" "$rc" 1

fb_finish
