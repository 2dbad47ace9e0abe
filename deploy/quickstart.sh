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
    exec ./build/release/gateway/gatewayd "${@:2}"
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
