#!/usr/bin/env bash
# tests/bench/crypto.sh BENCH_BINARY - keel's crypto figures and the same
# three from `openssl speed` (this machine's OpenSSL, with its assembly
# and SHA-NI where the CPU has it), run now, printed as ratios:
#   bench crypto.sha256_vs_openssl, .ecdsa_sign_vs_openssl,
#   .ecdsa_verify_vs_openssl  (keel / openssl; 1.0 = as fast).
# Bounded: about one second per figure on each side.
set -euo pipefail
b=${1:?bench binary}
ours=$("$b" 1000)
echo "$ours"
get() { awk -v k="bench crypto.$1" '$0 ~ "^"k" " {print $3}' <<<"$ours"; }

# openssl speed: SHA-256 on 16 KiB blocks, ECDSA P-256 sign and verify.
sha=$(openssl speed -seconds 1 -bytes 16384 sha256 2>/dev/null |
    awk '$1 == "sha256" {v=$NF; sub(/k$/, "", v); print v * 1000 / 1e6}')
ec=$(openssl speed -seconds 1 ecdsap256 2>/dev/null |
    awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1), $NF}')
osign=${ec% *} overify=${ec#* }
echo "bench openssl.sha256_mb_per_s $sha"
echo "bench openssl.ecdsa_sign_per_s $osign"
echo "bench openssl.ecdsa_verify_per_s $overify"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }
echo "bench crypto.sha256_vs_openssl $(ratio "$(get sha256_mb_per_s)" "$sha")"
echo "bench crypto.ecdsa_sign_vs_openssl" \
    "$(ratio "$(get ecdsa_sign_per_s)" "$osign")"
echo "bench crypto.ecdsa_verify_vs_openssl" \
    "$(ratio "$(get ecdsa_verify_per_s)" "$overify")"
grep -q sha_ni /proc/cpuinfo &&
    echo "note: this CPU has SHA-NI; keel and openssl both use it" \
        "(KEEL_CRYPTO_NO_HW=1 measures BearSSL's portable code)" ||
    echo "note: this CPU has no SHA-NI"
