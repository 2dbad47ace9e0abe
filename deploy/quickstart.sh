#!/usr/bin/env bash
# The two quick-start commands of README.md.
#   deploy/quickstart.sh demo   install deps, build release, run gatewayd on its built-in demo stack
#   deploy/quickstart.sh test   install deps (+ test peers), build, run the whole ctest suite
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
case "${1:-}" in
  demo)
    bash deploy/install-deps.sh
    cmake --preset release -DGW_BUILD_TESTS=OFF -DGW_BUILD_BENCH=OFF >/dev/null
    cmake --build build/release -j"$JOBS" --target gatewayd
    # https on 127.0.0.1:8443 out of the box: a self-signed certificate for localhost/127.0.0.1,
    # made once (and again when it is about to expire), kept out of the tree.
    tls_dir="${XDG_CACHE_HOME:-$HOME/.cache}/gatewayd/demo-tls"
    if ! openssl x509 -checkend 86400 -noout -in "$tls_dir/cert.pem" >/dev/null 2>&1 || [[ ! -s "$tls_dir/key.pem" ]]; then
      mkdir -p "$tls_dir" && chmod 700 "$tls_dir"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" 2>/dev/null
      echo "quickstart: made a self-signed demo certificate in $tls_dir"
    fi
    exec ./build/release/gateway/gatewayd --demo-tls "$tls_dir" "${@:2}"
    ;;
  test)
    bash deploy/install-deps.sh --test
    cmake --preset release >/dev/null
    cmake --build build/release -j"$JOBS"
    ctest --test-dir build/release --output-on-failure -j"$JOBS" --timeout 600
    ;;
  *)
    echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
