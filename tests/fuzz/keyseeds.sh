#!/bin/bash
# tests/fuzz/keyseeds.sh DIR - seed a key-parser corpus with one key of
# each form openssl writes (SEC1 and PKCS#8, PEM and DER, public SPKI),
# plus a wrong-curve key.  Idempotent: existing seeds are kept.
set -euo pipefail
d=$1
mkdir -p "$d"
[ -f "$d/sec1.pem" ] && exit 0
cd "$d"
openssl ecparam -name prime256v1 -genkey -out sec1.pem 2>/dev/null
openssl pkey -in sec1.pem -out p8.pem
openssl pkey -in sec1.pem -outform DER -out p8.der
openssl ec -in sec1.pem -outform DER -out sec1.der 2>/dev/null
openssl pkey -in sec1.pem -pubout -out pub.pem
openssl pkey -in sec1.pem -pubout -outform DER -out pub.der
openssl ecparam -name secp384r1 -genkey -noout -out p384.pem 2>/dev/null
