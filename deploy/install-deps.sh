#!/usr/bin/env bash
# Installs what gatewayd needs to build and test, from Debian 12's packages only.
# Idempotent: when everything is present it returns in about a second without touching apt.
#   deploy/install-deps.sh          build dependencies (enough for the demo)
#   deploy/install-deps.sh --test   plus the real peers and clients the test suite drives
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(cmake g++ ninja-build pkg-config libnghttp2-dev libevent-dev libssl-dev rapidjson-dev
  libhttp-parser-dev libmimalloc-dev libyaml-cpp-dev libre2-dev libgtest-dev libgmock-dev libbenchmark-dev curl
  ca-certificates openssl)
# Peers and clients used by tests/integration and tests/load (real servers on loopback).
TEST_PKGS=(gunicorn nginx-light wrk nghttp2-client nghttp2-proxy python3 python3-h2 python3-requests python3-jsonschema procps apache2-utils uwsgi uwsgi-plugin-python3 php-fpm python3-gevent python3-cherrypy3)

want=("${BUILD_PKGS[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# valijson: the libvalijson-dev package has hard Depends on Qt5, Poco and MariaDB dev packages
# (about 1 GB). It is header-only, so take its headers and CMake config from the .deb instead.
if [[ ! -f /usr/share/cmake/valijson/valijsonConfig.cmake && ! -f .deps/valijson/usr/share/cmake/valijson/valijsonConfig.cmake ]]; then
  echo "install-deps: unpacking libvalijson-dev into .deps/valijson"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download libvalijson-dev >/dev/null 2>&1) || { $SUDO apt-get update -qq; (cd "$tmp" && apt-get download libvalijson-dev >/dev/null); }
  mkdir -p .deps/valijson
  dpkg-deb -x "$tmp"/libvalijson-dev_*.deb .deps/valijson
  rm -rf "$tmp"
fi
