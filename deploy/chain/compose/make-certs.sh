#!/bin/sh
# Makes the TLS files ../compose.yaml mounts as secrets: a CA, the clouds' certificate and one
# client certificate per store (its subject CN and DNS name are the store id, which is how the
# cloud's `[tls] client_ca` knows the store):
#   make-certs.sh DIR STORE...      e.g. make-certs.sh secrets SH-001 SH-002
# The clouds' certificate names `cloud` (compose.yaml's network alias), `cloud-1`, `cloud-2` and
# `localhost`; set OMO_CLOUD_NAMES="cloud cloud-1 cloud-2 cloud-3 omo.example" to change that.
# An existing CA (DIR/omo-ca.pem and DIR/omo-ca-key.pem) is reused, so a new store gets a
# certificate the running clouds already trust. Keep omo-ca-key.pem off the servers once done.
set -eu
dir=$1
shift
names=${OMO_CLOUD_NAMES:-cloud cloud-1 cloud-2 localhost}
umask 077
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

if [ ! -f "$dir/omo-ca.pem" ]; then
    key "$dir/omo-ca-key.pem"
    openssl req -new -key "$dir/omo-ca-key.pem" -subj "/CN=Omo chain CA" -out "$tmp/ca.csr"
    printf '%s\n' 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
        'subjectKeyIdentifier=hash' > "$tmp/ca.ext"
    openssl x509 -req -in "$tmp/ca.csr" -signkey "$dir/omo-ca-key.pem" -days 3650 \
        -extfile "$tmp/ca.ext" -out "$dir/omo-ca.pem"
fi

# leaf FILE CN SUBJECT_ALT_NAMES EXTENDED_KEY_USAGE: FILE.pem and FILE-key.pem, signed by the CA.
leaf() {
    key "$dir/$1-key.pem"
    openssl req -new -key "$dir/$1-key.pem" -subj "/CN=$2" -out "$tmp/$1.csr"
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
        "extendedKeyUsage=$4" "subjectAltName=$3" 'authorityKeyIdentifier=keyid' > "$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$dir/omo-ca.pem" -CAkey "$dir/omo-ca-key.pem" \
        -CAcreateserial -days 825 -extfile "$tmp/$1.ext" -out "$dir/$1.pem"
}

san=""
for name in $names; do san="${san:+$san,}DNS:$name"; done
first=${names%% *}
[ -f "$dir/cloud.pem" ] || leaf cloud "$first" "$san" serverAuth
for store in "$@"; do
    leaf "edge-$store" "$store" "DNS:$store" clientAuth
done
chmod 644 "$dir"/*.pem
chmod 600 "$dir"/*-key.pem
