#!/usr/bin/env bash
# HTTPS (HTTP/1.1 over TLS) reverse-proxy benchmark: gatewayd vs nginx, same machine, same run,
# same backend, same certificate (a self-signed P-256 certificate made here with the openssl CLI).
#
# Usage (from the repo root):   bash tests/load/tls.sh [--quick]
#   env GATEWAYD   path to the gatewayd binary (default: build/release, then build/load, build/h-tls-rel)
#   env WORKERS    worker count for BOTH proxies (default 1)
#   env KEEP=1     keep the temp dir
#
# Backend: nginx (1 worker) answering GET /small (13 bytes) and GET /1mb (1 MiB file). Proxies:
# gatewayd (TLS listener, logs off, upstream keepalive 64) and nginx (listen ... ssl, TLS 1.2+1.3,
# shared session cache, same upstream keep-alive and forwarded headers as tests/load/run.sh).
# Load: wrk (1 thread) with keep-alive, TLS 1.3 (wrk's OpenSSL default): small GET with 64
# connections and 1 MiB GET with 16; plus "new connection per request" (wrk -H "Connection: close")
# to price the handshakes themselves. Runs alternate gatewayd, nginx per round after a warm-up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORKERS=${WORKERS:-1}
if ((QUICK)); then DUR=3; ROUNDS=2; else DUR=8; ROUNDS=3; fi

GW=${GATEWAYD:-}
if [[ -z "$GW" ]]; then
  for cand in "$ROOT/build/release/gateway/gatewayd" "$ROOT/build/load/gateway/gatewayd" "$ROOT/build/h-tls-rel/gateway/gatewayd"; do
    [[ -x "$cand" ]] && { GW=$cand; break; }
  done
fi
[[ -x "$GW" ]] || { echo "tls.sh: gatewayd not found (set GATEWAYD=...)" >&2; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in "$NGINX" wrk openssl curl; do command -v "$t" >/dev/null || { echo "tls.sh: missing $t" >&2; exit 2; }; done

W=$(mktemp -d /tmp/gw-tls-load.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
            [[ "${KEEP:-0}" == 1 ]] && echo "kept $W" || rm -rf "$W"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null

mkdir -p "$W/www" "$W/be/logs" "$W/be/tmp" "$W/px/logs" "$W/px/tmp"
printf 'hello, world\n' > "$W/www/small"
head -c 1048576 /dev/zero | tr '\0' 'x' > "$W/www/1mb"
chmod 755 "$W"; chmod -R a+rX "$W/www"  # nginx workers are not root; mktemp -d is 0700
BE_PORT=$(free_port)
cat > "$W/be/nginx.conf" <<EOF
daemon off; worker_processes 1; pid $W/be/logs/nginx.pid; error_log $W/be/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off; keepalive_requests 100000; keepalive_timeout 120s; sendfile on; tcp_nodelay on;
  client_body_temp_path $W/be/tmp/body; proxy_temp_path $W/be/tmp/proxy;
  fastcgi_temp_path $W/be/tmp/fcgi; uwsgi_temp_path $W/be/tmp/uwsgi; scgi_temp_path $W/be/tmp/scgi;
  server { listen 127.0.0.1:$BE_PORT backlog=4096; root $W/www;
           location = /small { default_type text/plain; return 200 "hello, world\n"; } location = /1mb { } }
}
EOF
"$NGINX" -p "$W/be" -c "$W/be/nginx.conf" & PIDS+=($!)
wait_tcp "$BE_PORT"

cp "$GW" "$W/gwd-bench"  # a private name: a stray `pkill gatewayd` elsewhere must not stop it
cat > "$W/gw.yaml" <<EOF
workers: $WORKERS
listeners:
  - name: tls
    address: 127.0.0.1
    port: 0
    backlog: 4096
    tls: {certificates: [{cert: "$W/cert.pem", key: "$W/key.pem"}], alpn: [http/1.1]}
limits: {max_connections: 10000}
upstreams:
  - {name: backend, servers: ["127.0.0.1:$BE_PORT"], keepalive: 64}
routes:
  - {upstream: backend}
logs: {access: "off"}
EOF
"$W/gwd-bench" -c "$W/gw.yaml" 2>"$W/gatewayd.log" & PIDS+=($!)
GW_PORT=
for _ in $(seq 1 100); do
  GW_PORT=$(sed -n 's#.*listening on https://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$W/gatewayd.log" | head -1)
  [[ -n "$GW_PORT" ]] && break; sleep 0.05
done
[[ -n "$GW_PORT" ]] || { cat "$W/gatewayd.log" >&2; exit 1; }
wait_tcp "$GW_PORT"

NG_PORT=$(free_port)
cat > "$W/px/nginx.conf" <<EOF
daemon off; worker_processes $WORKERS; pid $W/px/logs/nginx.pid; error_log $W/px/logs/error.log warn;
events { worker_connections 10000; }
http {
  access_log off; keepalive_requests 100000; keepalive_timeout 60s; tcp_nodelay on;
  client_body_temp_path $W/px/tmp/body; proxy_temp_path $W/px/tmp/proxy;
  fastcgi_temp_path $W/px/tmp/fcgi; uwsgi_temp_path $W/px/tmp/uwsgi; scgi_temp_path $W/px/tmp/scgi;
  upstream backend { server 127.0.0.1:$BE_PORT; keepalive 64; keepalive_requests 100000; }
  server {
    listen 127.0.0.1:$NG_PORT ssl backlog=4096;
    ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:10m;
    location / {
      proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme; proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Port \$server_port; proxy_set_header X-Request-Id \$request_id;
      add_header X-Request-Id \$request_id always;
      proxy_buffer_size 16k; proxy_buffers 16 16k; proxy_busy_buffers_size 32k; proxy_max_temp_file_size 0;
    }
  }
}
EOF
"$NGINX" -p "$W/px" -c "$W/px/nginx.conf" & PIDS+=($!)
wait_tcp "$NG_PORT"
declare -A PORT=([gatewayd]=$GW_PORT [nginx]=$NG_PORT)

for who in gatewayd nginx; do
  got=$(curl -sS --cacert "$W/cert.pem" "https://localhost:${PORT[$who]}/small" --resolve "localhost:${PORT[$who]}:127.0.0.1")
  [[ "$got" == "hello, world" ]] || { echo "tls.sh: $who answered '$got'" >&2; exit 1; }
  size=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' --cacert "$W/cert.pem" \
    "https://localhost:${PORT[$who]}/1mb" --resolve "localhost:${PORT[$who]}:127.0.0.1")
  [[ "$size" == "200 1048576" ]] || { echo "tls.sh: $who /1mb: $size" >&2; exit 1; }
done

# run NAME WHO CONNS PATH [wrk args...] -> "req/s p99_ms"
run() {
  local who=$1 conns=$2 path=$3; shift 3
  local out; out=$(wrk -t1 -c"$conns" -d"${DUR}s" --latency "$@" "https://127.0.0.1:${PORT[$who]}$path" 2>&1)
  echo "$out" >> "$W/wrk.log"
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  echo "${rps:-0} ${p99:-0}"
}

declare -A RPS P99
CASES=("small-keepalive 64 /small" "1mb-keepalive 16 /1mb" "small-new-conn 16 /small -H Connection:close")
for c in "${CASES[@]}"; do
  read -r name conns path extra <<<"$c"
  args=(); [[ -n "${extra:-}" ]] && args=(-H "Connection: close")
  for who in gatewayd nginx; do run "$who" "$conns" "$path" -d1s "${args[@]}" >/dev/null 2>&1 || true; done  # warm-up
  for r in $(seq 1 "$ROUNDS"); do
    for who in gatewayd nginx; do
      read -r rps p99 < <(run "$who" "$conns" "$path" "${args[@]}")
      echo "round $r $name $who: $rps req/s, p99 $p99 ms"
      RPS[$name,$who]="${RPS[$name,$who]:-} $rps"; P99[$name,$who]="${P99[$name,$who]:-} $p99"
    done
  done
done

echo
echo "| case (wrk -t1, HTTPS HTTP/1.1, $WORKERS worker) | gatewayd req/s | nginx req/s | ratio | gatewayd p99 ms | nginx p99 ms |"
echo "| --- | --- | --- | --- | --- | --- |"
for c in "${CASES[@]}"; do
  read -r name conns _ <<<"$c"
  g=$(mean "${RPS[$name,gatewayd]}"); n=$(mean "${RPS[$name,nginx]}")
  echo "| $name ($conns conns) | $g | $n | $(awk -v a="$g" -v b="$n" 'BEGIN {printf "%.2f", a/b}') | $(mean "${P99[$name,gatewayd]}") | $(mean "${P99[$name,nginx]}") |"
done
