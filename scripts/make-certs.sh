#!/usr/bin/env bash
# make-certs.sh DIR [--rsa BITS] [--force] -- makes throwaway TLS test
# certificates with the openssl command only (interface T1):
#   ca.pem ca.key                a CA, "flagbench test CA"
#   server.pem server.key        leaf for IP:127.0.0.1, IP:198.18.0.1 (the network
#                                lab's server, netlab/) and DNS:localhost, signed by
#                                ca, valid 30 days (ECDSA P-256; RSA BITS with --rsa)
#   other-ca.pem                 an unrelated CA that must not verify server.pem
#   wrongname.pem wrongname.key  signed by ca, SAN only DNS:wrong.invalid
#   expired.pem expired.key      signed by ca, for 127.0.0.1/localhost, validity
#                                entirely in the past
# DIR is created with mode 0700, keys are 0600. Idempotent: if DIR/server.pem
# exists and is valid for more than a day, it does nothing (and prints nothing)
# unless --force. Everything is made in a temporary directory inside DIR and
# moved into place only when all of it succeeded. Nothing it writes is ever
# committed: DIR belongs under build/ or a temporary directory.
# Exit 0 ok, 1 openssl failed, 2 usage.
set -euo pipefail

usage() {
  echo "usage: make-certs.sh DIR [--rsa BITS] [--force]" >&2
  exit 2
}

dir="" rsa_bits="" force=0
while [ $# -gt 0 ]; do
  case $1 in
  --rsa)
    [ $# -ge 2 ] || usage
    case $2 in '' | *[!0-9]*) usage ;; esac
    [ "$2" -ge 2048 ] && [ "$2" -le 16384 ] || usage
    rsa_bits=$2
    shift 2
    ;;
  --force)
    force=1
    shift
    ;;
  -h | --help) usage ;;
  -*) usage ;;
  *)
    [ -z "$dir" ] || usage
    dir=$1
    shift
    ;;
  esac
done
[ -n "$dir" ] || usage
command -v openssl >/dev/null || { echo "make-certs.sh: openssl not found (apt-get install openssl)" >&2; exit 1; }

all="ca.pem ca.key server.pem server.key other-ca.pem wrongname.pem wrongname.key expired.pem expired.key"
if [ "$force" -eq 0 ] && [ -f "$dir/server.pem" ] &&
  openssl x509 -in "$dir/server.pem" -noout -checkend 86400 >/dev/null 2>&1; then
  # Kept only if it is also of the key type asked for.
  if [ -n "$rsa_bits" ]; then want="Public-Key: ($rsa_bits bit)"; else want="ASN1 OID: prime256v1"; fi
  complete=0
  if openssl x509 -in "$dir/server.pem" -noout -text 2>/dev/null | grep -qF "$want"; then complete=1; fi
  # ... and names the lab's address (older ones did not)
  openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null | grep -qF 198.18.0.1 || complete=0
  for f in $all; do [ -f "$dir/$f" ] || complete=0; done
  [ "$complete" -eq 0 ] || exit 0
fi

umask 077
mkdir -p "$dir" || exit 1
chmod 0700 "$dir" || exit 1
tmp=$(mktemp -d "$dir/.make-certs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

log=$tmp/openssl.log
run() { # openssl ARGS...: quiet on success, its own error text and exit 1 on failure
  if ! openssl "$@" >>"$log" 2>&1; then
    echo "make-certs.sh: openssl $1 failed:" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
}

newkey() { # newkey FILE [rsa]: a P-256 key, or RSA rsa_bits
  if [ -n "$rsa_bits" ] && [ "${2:-}" = rsa ]; then
    run genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$rsa_bits" -out "$1"
  else
    run genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$1"
  fi
}

# The CAs (always P-256: --rsa is about the server's handshake cost).
newkey "$tmp/ca.key"
run req -new -x509 -key "$tmp/ca.key" -days 3650 -subj "/CN=flagbench test CA" \
  -config /dev/null -addext "basicConstraints=critical,CA:true" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tmp/ca.pem"
newkey "$tmp/other-ca.key"
run req -new -x509 -key "$tmp/other-ca.key" -days 3650 -subj "/CN=flagbench unrelated CA" \
  -config /dev/null -addext "basicConstraints=critical,CA:true" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tmp/other-ca.pem"

leaf_ext() { # leaf_ext SAN: an extension file for a TLS server leaf
  cat <<EOF
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $1
EOF
}
leaf_ext "IP:127.0.0.1, IP:198.18.0.1, DNS:localhost" >"$tmp/server.ext"
leaf_ext "DNS:wrong.invalid" >"$tmp/wrongname.ext"

sign() { # sign NAME CN DAYS: NAME.key -> NAME.csr -> NAME.pem signed by ca
  run req -new -key "$tmp/$1.key" -subj "/CN=$2" -config /dev/null -out "$tmp/$1.csr"
  run x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
    -days "$3" -extfile "$tmp/$1.ext" -out "$tmp/$1.pem"
}
newkey "$tmp/server.key" rsa
sign server localhost 30
newkey "$tmp/wrongname.key" rsa
sign wrongname wrong.invalid 30

# The expired leaf: `openssl x509 -req` of OpenSSL 3.0 cannot back-date, `openssl ca`
# can (-startdate/-enddate), with a throwaway configuration.
newkey "$tmp/expired.key" rsa
run req -new -key "$tmp/expired.key" -subj "/CN=localhost" -config /dev/null -out "$tmp/expired.csr"
mkdir "$tmp/ca.db"
: >"$tmp/ca.db/index.txt"
echo 1000 >"$tmp/ca.db/serial"
cat >"$tmp/ca.cnf" <<EOF
[ ca ]
default_ca = throwaway
[ throwaway ]
dir = $tmp/ca.db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
[ leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
EOF
run ca -batch -notext -config "$tmp/ca.cnf" -extensions leaf -cert "$tmp/ca.pem" \
  -keyfile "$tmp/ca.key" -startdate 20200101000000Z -enddate 20200201000000Z \
  -in "$tmp/expired.csr" -out "$tmp/expired.pem"

# Self-check before anything is moved into place.
run verify -CAfile "$tmp/ca.pem" "$tmp/server.pem"
run verify -CAfile "$tmp/ca.pem" "$tmp/wrongname.pem"
if openssl verify -CAfile "$tmp/ca.pem" "$tmp/expired.pem" >/dev/null 2>&1; then
  echo "make-certs.sh: expired.pem verifies, it should not" >&2
  exit 1
fi
if openssl verify -CAfile "$tmp/other-ca.pem" "$tmp/server.pem" >/dev/null 2>&1; then
  echo "make-certs.sh: other-ca.pem verifies server.pem, it should not" >&2
  exit 1
fi

for f in $all; do
  case $f in *.key) chmod 0600 "$tmp/$f" ;; *) chmod 0644 "$tmp/$f" ;; esac
  mv -f "$tmp/$f" "$dir/$f"
done
