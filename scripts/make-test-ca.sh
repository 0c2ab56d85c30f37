#!/usr/bin/env bash
# Makes a test certificate authority and N node certificates for a TLS cluster
# (docs/cluster.md, "TLS between nodes"), with the `openssl` command-line tool.
#
#   scripts/make-test-ca.sh DIR N
#
# Writes into DIR (created if missing; private keys readable by the owner only):
#   ca.pem, ca.key            the cluster CA (EC P-256, self-signed)
#   node-<i>.pem, node-<i>.key for i = 1..N: a node certificate signed by the CA, subject
#                             CN = ordo-node-<i> (the node id the cluster binds to it),
#                             usable as TLS server and client (mutual authentication)
# A DIR that already holds ca.key keeps its CA: only missing node certificates are made, so
# a node can be added later. Another DIR is another CA (same names, different key): its
# certificates are refused by nodes of this one — the cluster tests rely on that.
# Validity: ORDO_CA_DAYS days (default 30) — for tests and trials, not for production
# (use your organisation's CA; docs/cluster.md says what the certificates need).
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
  echo "usage: $0 DIR N   (N: how many node certificates, 1..65535; node ids 1..N)" >&2
  exit 2
fi
command -v openssl >/dev/null || {
  echo "make-test-ca: the openssl tool is missing (scripts/install-deps.sh installs it)" >&2
  exit 1
}
dir=$1
n=$2
days=${ORDO_CA_DAYS:-30}
umask 077
mkdir -p "$dir"
cd "$dir"

if [ ! -f ca.key ] || [ ! -f ca.pem ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout ca.key -out ca.pem -days "$days" -subj "/O=Ordo test/CN=Ordo test cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

ext=$(mktemp ./ext.XXXXXX)
trap 'rm -f "$ext" ./node-*.csr' EXIT
for i in $(seq 1 "$n"); do
  [ -f "node-$i.pem" ] && [ -f "node-$i.key" ] && continue
  cat >"$ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:ordo-node-$i
EOF
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "node-$i.key" -out "node-$i.csr" -subj "/O=Ordo test/CN=ordo-node-$i" 2>/dev/null
  openssl x509 -req -in "node-$i.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out "node-$i.pem" -days "$days" -extfile "$ext" 2>/dev/null
  rm -f "node-$i.csr"
done
chmod 644 ca.pem node-*.pem
echo "make-test-ca: CA and $n node certificates in $(pwd)"
