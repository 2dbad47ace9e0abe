#!/usr/bin/env bash
# Static-file benchmark: gatewayd (kind: static) vs nginx serving the SAME document root, same
# machine, same run, same worker count, access logs off on both.
#
# Usage (from the repo root):   bash tests/load/static.sh [--quick]
#   env GATEWAYD   gatewayd binary (default: build/release, then build/load)
#   env WORKERS    workers for both servers (default 1)
#
# Cases (wrk --latency, 1 thread, keep-alive): a 13-byte file (64 connections) and a 1 MiB file
# (16 connections). nginx runs twice in one instance: "sendfile on" (its usual setting) and
# "sendfile off" (reads into user memory, like gatewayd's pread). Rounds alternate gatewayd,
# nginx, nginx-nosendfile per case after an unrecorded warm-up; means are printed as a Markdown
# table with ratio = gatewayd / nginx (sendfile on).
# Tools: nginx (nginx-light), wrk, curl, python3 (Debian packages; nothing is installed here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QUICK=0
[[ "${1:-}" == --quick ]] && QUICK=1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORKERS=${WORKERS:-1}
if ((QUICK)); then DUR=2; ROUNDS=2; else DUR=5; ROUNDS=3; fi
GW=${GATEWAYD:-}
if [[ -z "$GW" ]]; then
  for cand in "$ROOT/build/release/gateway/gatewayd" "$ROOT/build/load/gateway/gatewayd"; do
    [[ -x "$cand" ]] && { GW=$cand; break; }
  done
fi
[[ -n "$GW" && -x "$GW" ]] || { echo "static.sh: gatewayd not found (set GATEWAYD=...)" >&2; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in "$NGINX" wrk curl python3; do command -v "$t" >/dev/null || { echo "static.sh: missing $t" >&2; exit 2; }; done

W=$(mktemp -d /tmp/gw-static-load.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/www" "$W/ng/logs" "$W/ng/tmp"
printf 'hello, world\n' > "$W/www/small.txt"
head -c 1048576 /dev/urandom > "$W/www/1mb.bin"
chmod -R a+rX "$W/www"

NG_PORT=$(free_port); NG2_PORT=$(free_port)
cat > "$W/ng/nginx.conf" <<EOF
daemon off;
worker_processes $WORKERS;
worker_rlimit_nofile 20000;
pid $W/ng/logs/nginx.pid;
error_log $W/ng/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000;
  keepalive_timeout 120s;
  tcp_nopush on; tcp_nodelay on;
  default_type application/octet-stream;
  etag on;
  client_body_temp_path $W/ng/tmp/body; proxy_temp_path $W/ng/tmp/proxy;
  fastcgi_temp_path $W/ng/tmp/fcgi; uwsgi_temp_path $W/ng/tmp/uwsgi; scgi_temp_path $W/ng/tmp/scgi;
  server { listen 127.0.0.1:$NG_PORT backlog=4096; root $W/www; sendfile on; }
  server { listen 127.0.0.1:$NG2_PORT backlog=4096; root $W/www; sendfile off; output_buffers 2 256k; }
}
EOF
"$NGINX" -p "$W/ng" -c "$W/ng/nginx.conf" 2>>"$W/ng/logs/stderr" & PIDS+=($!)

cp "$GW" "$W/gwd-bench"
cat > "$W/gw.yaml" <<EOF
workers: $WORKERS
listeners:
  - {name: load, address: 127.0.0.1, port: 0, backlog: 4096}
limits: {max_connections: 10000}
upstreams:
  - {name: files, kind: static, root: "$W/www"}
routes:
  - {upstream: files}
logs: {access: "off"}
EOF
"$W/gwd-bench" -c "$W/gw.yaml" --workers "$WORKERS" 2>"$W/gatewayd.log" & PIDS+=($!)
GW_PORT=
for _ in $(seq 1 100); do
  GW_PORT=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$W/gatewayd.log" | head -1)
  [[ -n "$GW_PORT" ]] && break; sleep 0.05
done
[[ -n "$GW_PORT" ]] || { cat "$W/gatewayd.log" >&2; exit 1; }
wait_tcp "$GW_PORT"; wait_tcp "$NG_PORT"; wait_tcp "$NG2_PORT"
# Same bytes from all three.
for p in "$GW_PORT" "$NG_PORT" "$NG2_PORT"; do
  [[ $(curl -s "http://127.0.0.1:$p/1mb.bin" | sha256sum) == $(sha256sum < "$W/www/1mb.bin") ]] || { echo "static.sh: wrong body from port $p" >&2; exit 1; }
done

declare -A RPS P99
run() {  # name port path conns -> appends "rps p99ms"
  local out rps p99
  out=$(wrk -t1 -c"$4" -d"${DUR}s" --latency "http://127.0.0.1:$2$3")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  echo "  $1 $3 c=$4: $rps req/s, p99 $p99 ms" >&2
  RPS[$1$3]="${RPS[$1$3]:-} $rps"; P99[$1$3]="${P99[$1$3]:-} $p99"
}
echo "gatewayd $("$W/gwd-bench" --version 2>&1 | head -1), nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), workers $WORKERS, $(nproc) CPUs" >&2
for c in "/small.txt 64" "/1mb.bin 16"; do
  set -- $c
  wrk -t1 -c"$2" -d1s "http://127.0.0.1:$GW_PORT$1" >/dev/null; wrk -t1 -c"$2" -d1s "http://127.0.0.1:$NG_PORT$1" >/dev/null
  for _ in $(seq 1 "$ROUNDS"); do
    run gatewayd "$GW_PORT" "$1" "$2"; run nginx "$NG_PORT" "$1" "$2"; run nginx-nosendfile "$NG2_PORT" "$1" "$2"
  done
done
echo
echo "| file | gatewayd req/s | nginx req/s | nginx (sendfile off) req/s | ratio gatewayd/nginx | p99 gatewayd / nginx / nginx sendfile off (ms) |"
echo "| --- | --- | --- | --- | --- | --- |"
for f in /small.txt /1mb.bin; do
  g=$(mean "${RPS[gatewayd$f]}"); n=$(mean "${RPS[nginx$f]}"); n2=$(mean "${RPS[nginx-nosendfile$f]}")
  echo "| $f | $g | $n | $n2 | $(awk -v a="$g" -v b="$n" 'BEGIN {printf "%.2f", a/b}')× | $(mean "${P99[gatewayd$f]}") / $(mean "${P99[nginx$f]}") / $(mean "${P99[nginx-nosendfile$f]}") |"
done
