#!/usr/bin/env bash
# HTTP/2 reverse-proxy benchmark: gatewayd vs nghttpx (Debian's nghttp2-proxy), same machine,
# same run, same backend, one worker each.
#
# Usage (from the repo root):   bash tests/load/h2.sh [--quick | --callgrind | --cachesim]
#   --callgrind: instead of timed rounds, both proxies run under valgrind's callgrind (nghttpx with
#   --single-process) and each gets N=${CG_N:-5000} requests per case (h2load -c 32 -m 10):
#   user-space instructions per request, deterministic whatever else the machine is doing.
#   --cachesim: the same with callgrind's cache simulation: also first-level instruction and data
#   cache misses per request (what separates the two when instructions do not; BENCHMARKS.md).
#   env GATEWAYD   path to gatewayd (default: build/release/gateway/gatewayd, then build/h-h2-rel)
#   env ROUNDS     timed rounds per case (default 4, 2 with --quick)
#   env KEEP=1     keep the temp dir
#   env NGHTTPX_EXTRAS=1  nghttpx also adds the fields gatewayd adds by default (X-Request-Id,
#                  X-Forwarded-Host and -Port up, x-request-id back; fixed values of the same
#                  length, where gatewayd's id is new per request): the two proxies then cost the
#                  backend and h2load about the same per request
#   env ONLY="h2 /small"  timed mode: run only that case (protocol and path), e.g. for more rounds
#   env GATEWAYD_B another gatewayd build to compare against instead of nghttpx (an A/B of two
#                  builds: same backend, config, rounds and tables, "gatewayd-B" in nghttpx's place;
#                  timed mode only)
#
# What it does (loopback only; everything it starts is stopped by the EXIT trap):
#   * Backend: nginx (1 worker) serving GET /small (13 bytes) and GET /16k.
#   * Proxies, each with one worker, a cleartext (h2c prior knowledge) and a TLS (ALPN h2)
#     listener with the same self-signed P-256 certificate, no access log:
#       gatewayd  (upstream keepalive 512; it also adds X-Forwarded-*, X-Request-Id),
#       nghttpx   --conf=/dev/null --workers=1 --backend-connections-per-host=512 --add-x-forwarded-for.
#   * Load: h2load -c 32 -m 10 (320 streams in flight), for each of {h2c, h2 over TLS} x
#     {/small, /16k}: a short warm-up of each proxy, then rounds alternating which proxy goes first
#     (2 rounds with --quick, else 4); each run reports req/s, p50/p99 and the proxy's CPU time
#     per request.
#     p50/p99 come from h2load --log-file (per-request durations). The ratio's ± is the standard
#     error of the per-round ratios (each round runs both proxies back to back, so a round's ratio
#     is less exposed to the machine's slow swings than the means are).
#   * Memory (first, on fresh processes): RSS of each proxy at idle, then with 1,000 idle HTTP/2
#     connections (h2c, each did one request first); reported per connection.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
CG=0; [[ "${1:-}" == "--callgrind" ]] && CG=1
CACHESIM=0; [[ "${1:-}" == "--cachesim" ]] && { CG=1; CACHESIM=1; }
CG_N=${CG_N:-5000}
B_GW=${GATEWAYD_B:-}; B_NAME=nghttpx
if [[ -n "$B_GW" ]]; then
  ((CG)) && { echo "h2.sh: GATEWAYD_B is for timed runs" >&2; exit 2; }
  [[ -x "$B_GW" ]] || { echo "h2.sh: GATEWAYD_B=$B_GW is not an executable" >&2; exit 2; }
  B_NAME=gatewayd-B
fi
case "${ONLY:-}" in ""|"h2c /small"|"h2c /16k"|"h2 /small"|"h2 /16k") ;;
  *) echo "h2.sh: ONLY=\"$ONLY\" is none of h2c|h2 and /small|/16k, e.g. ONLY=\"h2 /small\"" >&2; exit 2 ;; esac
DUR=$(( QUICK ? 3 : 6 )); ROUNDS=${ROUNDS:-$(( QUICK ? 2 : 4 ))}; HOLD=1000
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GW=${GATEWAYD:-}
for cand in "$ROOT/build/release/gateway/gatewayd" "$ROOT/build/h-h2-rel/gateway/gatewayd"; do
  [[ -z "$GW" && -x "$cand" ]] && GW=$cand
done
[[ -x "$GW" ]] || { echo "h2.sh: gatewayd not found (set GATEWAYD)" >&2; exit 2; }
for t in nginx nghttpx h2load openssl; do
  command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "h2.sh: missing $t (nginx-light, nghttp2-proxy, nghttp2-client, openssl)" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
NGHTTPX=$(command -v nghttpx || echo /usr/sbin/nghttpx)
PY=/usr/bin/python3

W=$(mktemp -d /tmp/gw-h2load.XXXXXX); chmod 755 "$W"
PIDS=()
cleanup() {
  local rc=$?; trap - EXIT
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ "${KEEP:-0}" == 1 ]] && echo "kept $W" >&2 || rm -rf "$W"
  exit "$rc"
}
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true
rss_kb() { local t=0; for p in "$@"; do t=$(( t + $(awk '/VmRSS/{print $2}' /proc/$p/status) )); done; echo $t; }

# ---------------------------------------------------------------- backend
mkdir -p "$W/www" "$W/be/logs" "$W/be/tmp"
printf 'hello, world\n' > "$W/www/small"
head -c 16384 /dev/zero | tr '\0' 'x' > "$W/www/16k"
chmod -R a+rX "$W/www"
BE=$(free_port)
cat > "$W/be/nginx.conf" <<EOF
daemon off; worker_processes 1; worker_rlimit_nofile 20000;
pid $W/be/logs/nginx.pid; error_log $W/be/logs/error.log warn;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s;
  client_body_temp_path $W/be/tmp/body; proxy_temp_path $W/be/tmp/proxy;
  fastcgi_temp_path $W/be/tmp/fcgi; uwsgi_temp_path $W/be/tmp/uwsgi; scgi_temp_path $W/be/tmp/scgi;
  server { listen 127.0.0.1:$BE backlog=4096; root $W/www; } }
EOF
"$NGINX" -c "$W/be/nginx.conf" -p "$W/be" 2>"$W/be/stderr" & PIDS+=($!)
BE_PID=$!
wait_tcp "$BE"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -keyout "$W/key.pem" -out "$W/cert.pem" >/dev/null 2>&1

# ---------------------------------------------------------------- proxies
GW_C=$(free_port); GW_T=$(free_port); NX_C=$(free_port); NX_T=$(free_port)
cat > "$W/gw.yaml" <<EOF
workers: 1
listeners:
  - {name: h2c, address: 127.0.0.1, port: $GW_C, backlog: 4096}
  - name: tls
    address: 127.0.0.1
    port: $GW_T
    backlog: 4096
    tls:
      certificates:
        - {cert: $W/cert.pem, key: $W/key.pem}
limits: {max_connections: 20000}
upstreams:
  - {name: be, servers: ["127.0.0.1:$BE"], keepalive: 512}
routes:
  - {prefix: /, upstream: be}
logs: {access: "off", error: $W/gw.err}
EOF
GW_WRAP=(); NX_WRAP=(); NX_ONE=()
if ((CG)); then
  SIM=(); ((CACHESIM)) && SIM=(--cache-sim=yes)
  GW_WRAP=(valgrind --tool=callgrind --quiet --compress-strings=no "${SIM[@]}" --callgrind-out-file="$W/cg.gw.%p")
  NX_WRAP=(valgrind --tool=callgrind --quiet --compress-strings=no "${SIM[@]}" --callgrind-out-file="$W/cg.nx.%p")
  NX_ONE=(--single-process)  # one process, so callgrind sees the worker's instructions
fi
"${GW_WRAP[@]}" "$GW" -c "$W/gw.yaml" 2>>"$W/gw.err" & GW_PID=$!; PIDS+=($GW_PID)
if [[ -n "$B_GW" ]]; then  # the B build in nghttpx's place: the same config on nghttpx's ports
  sed -e "s/port: $GW_C,/port: $NX_C,/" -e "s/port: $GW_T\$/port: $NX_T/" -e "s|$W/gw.err|$W/nx.err|" "$W/gw.yaml" > "$W/gw-b.yaml"
  "$B_GW" -c "$W/gw-b.yaml" 2>>"$W/nx.err" & NX_PID=$!; PIDS+=($NX_PID)
else
NX_EXTRA=()
if [[ "${NGHTTPX_EXTRAS:-0}" == 1 ]]; then
  NX_EXTRA=(--add-request-header="X-Request-Id: 0123456789abcdef0123456789abcdef"
            --add-request-header="X-Forwarded-Host: 127.0.0.1:$NX_C" --add-request-header="X-Forwarded-Port: $NX_C"
            --add-response-header="x-request-id: 0123456789abcdef0123456789abcdef")
  B_NAME="nghttpx+extras"
fi
"${NX_WRAP[@]}" "$NGHTTPX" --conf=/dev/null "${NX_EXTRA[@]}" --workers=1 "${NX_ONE[@]}" -f"127.0.0.1,$NX_C;no-tls" -f"127.0.0.1,$NX_T" \
  -b"127.0.0.1,$BE" --backend-connections-per-host=512 --add-x-forwarded-for --backlog=4096 \
  --errorlog-file="$W/nx.err" "$W/key.pem" "$W/cert.pem" 2>>"$W/nx.err" & NX_PID=$!; PIDS+=($NX_PID)
fi
for p in $GW_C $GW_T $NX_C $NX_T; do wait_tcp "$p"; done
sleep 0.5

if ((CACHESIM)); then
  echo "| protocol | path | proxy | instructions/request | I1 misses/request | D1 read misses/request | D1 write misses/request |"
  echo "| --- | --- | --- | ---: | ---: | ---: | ---: |"
  for proto in h2c h2; do
    for path in /small /16k; do
      for px in gatewayd nghttpx; do
        if [[ $proto == h2c ]]; then port=$GW_C; [[ $px == nghttpx ]] && port=$NX_C; url="http://127.0.0.1:$port$path"
        else port=$GW_T; [[ $px == nghttpx ]] && port=$NX_T; url="https://127.0.0.1:$port$path"; fi
        pid=$GW_PID; [[ $px == nghttpx ]] && pid=$NX_PID
        h2load -c 32 -m 10 -n 2000 "$url" >/dev/null 2>&1  # warm-up: connections, pools, caches
        f=$(cg_phase_dump "$W" "$pid" h2load -c 32 -m 10 -n "$CG_N" "$url")
        cg_events "$f" Ir I1mr D1mr D1mw | awk -v pr=$proto -v pa=$path -v px=$px -v r="$CG_N" \
          '{printf "| %s | %s | %s | %.1f k | %.0f | %.0f | %.0f |\n", pr, pa, px, $1/r/1000, $2/r, $3/r, $4/r}'
      done
    done
  done
  echo
  echo "(callgrind --cache-sim=yes: 32 KiB I1, D1 and LL as valgrind models this machine's caches)"
  exit 0
fi
if ((CG)); then
  echo "| protocol | path | gatewayd instructions/request | nghttpx instructions/request | ratio |"
  echo "| --- | --- | ---: | ---: | ---: |"
  for proto in h2c h2; do
    for path in /small /16k; do
      if [[ $proto == h2c ]]; then gu="http://127.0.0.1:$GW_C$path"; nu="http://127.0.0.1:$NX_C$path";
      else gu="https://127.0.0.1:$GW_T$path"; nu="https://127.0.0.1:$NX_T$path"; fi
      g=$(cg_phase "$W" $GW_PID h2load -c 32 -m 10 -n "$CG_N" "$gu")
      n=$(cg_phase "$W" $NX_PID h2load -c 32 -m 10 -n "$CG_N" "$nu")
      awk -v pr=$proto -v pa=$path -v g="$g" -v n="$n" -v r="$CG_N" \
        'BEGIN{printf "| %s | %s | %.1f k | %.1f k | %.2f× |\n", pr, pa, g/r/1000, n/r/1000, n/g}'
    done
  done
  echo
  echo "(ratio = nghttpx / gatewayd instructions: above 1 means gatewayd does less work per request)"
  exit 0
fi
nx_pids() { echo $NX_PID $(pgrep -P $NX_PID || true); }

# ---------------------------------------------------------------- memory: 1,000 idle h2c connections, on fresh processes (before any load)
hold() {  # port -> holds $HOLD h2c connections (one request each) until stdin closes
  "$PY" - "$1" "$HOLD" <<'PYEOF'
import socket, sys, hpack
port, n = int(sys.argv[1]), int(sys.argv[2])
req = (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
block = hpack.Encoder().encode([(":method", "GET"), (":scheme", "http"), (":path", "/small"), (":authority", "x")])
req += len(block).to_bytes(3, "big") + b"\x01\x05\x00\x00\x00\x01" + block
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(req); socks.append(s)
for s in socks:
    s.settimeout(5); got = b""
    while b"hello" not in got:
        d = s.recv(65536)
        if not d: break
        got += d
    s.sendall(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")  # SETTINGS ACK
print("held", flush=True)
sys.stdin.read()
PYEOF
}
measure() {  # port, pids...
  local port=$1; shift
  local before after
  before=$(rss_kb "$@")
  exec {fd}> >(hold "$port" > "$W/hold.out")
  for _ in $(seq 1 200); do grep -q held "$W/hold.out" 2>/dev/null && break; sleep 0.1; done
  sleep 1
  after=$(rss_kb "$@")
  exec {fd}>&-
  sleep 1
  echo "$before $after"
}
read -r gb ga < <(measure $GW_C $GW_PID)
read -r nb na < <(measure $NX_C $(nx_pids))

# ---------------------------------------------------------------- load
# Prints "req/s p50_ms p99_ms failed cpu_us_per_req backend_cpu_us_per_req" for one h2load run
# against the proxy whose pids follow the URL (each case had a warm-up run before its rounds).
run() {
  local url=$1 log=$W/h2load.log; shift
  rm -f "$log"
  local c0 c1 b0 b1; c0=$(cpu_ticks "$@"); b0=$(cpu_ticks $BE_PID)
  local out; out=$(h2load -c 32 -m 10 -t 1 -D "$DUR" --log-file="$log" "$url" 2>&1)
  c1=$(cpu_ticks "$@"); b1=$(cpu_ticks $BE_PID)
  local done_n; done_n=$(echo "$out" | awk '/^requests:/{print $6}')
  local rps; rps=$(echo "$out" | awk '/^finished in/{for(i=1;i<=NF;i++) if($i ~ /req\/s/) {gsub(",","",$(i-1)); print $(i-1)}}')
  local fails; fails=$(echo "$out" | awk '/^requests:/{print $10+$12}')
  local lat; lat=$(sort -n -k3 "$log" | awk '{d[NR]=$3} END{printf "%.2f %.2f", d[int(NR*0.5)]/1000, d[int(NR*0.99)]/1000}')
  echo "$rps $lat $fails $(cpu_us_per_req "$c0" "$c1" "$done_n") $(cpu_us_per_req "$b0" "$b1" "$done_n")"
}
declare -A SUM RATIO
echo "# raw runs: proto path proxy req/s p50_ms p99_ms failed cpu_us_per_req backend_cpu_us_per_req"
want() { [[ -z "${ONLY:-}" || "$1 $2" == "$ONLY" ]]; }
for proto in h2c h2; do
  for path in /small /16k; do
    want $proto $path || continue
    if [[ $proto == h2c ]]; then gu="http://127.0.0.1:$GW_C$path"; nu="http://127.0.0.1:$NX_C$path";
    else gu="https://127.0.0.1:$GW_T$path"; nu="https://127.0.0.1:$NX_T$path"; fi
    h2load -c 32 -m 10 -D 1 "$gu" >/dev/null 2>&1; h2load -c 32 -m 10 -D 1 "$nu" >/dev/null 2>&1
    for r in $(seq 1 $ROUNDS); do
      order="gatewayd nghttpx"; (( r % 2 == 0 )) && order="nghttpx gatewayd"  # neither always goes first
      declare -A ROUND=()
      for px in $order; do
        if [[ $px == nghttpx ]]; then read -r rps p50 p99 failed cpu be < <(run "$nu" $NX_PID);  # + its worker
        else read -r rps p50 p99 failed cpu be < <(run "$gu" $GW_PID); fi
        label=$px; [[ $px == nghttpx ]] && label=$B_NAME
        echo "$proto $path $label $rps $p50 $p99 $failed $cpu $be"
        k="$proto $path $px"
        SUM[$k]=$(awk -v a="${SUM[$k]:-0 0 0 0 0}" -v r="$rps" -v p="$p50" -v q="$p99" -v c="$cpu" -v b="$be" \
          'BEGIN{split(a,x," "); printf "%f %f %f %f %f", x[1]+r, x[2]+p, x[3]+q, x[4]+c, x[5]+b}')
        ROUND[$px]=$rps
      done
      k="$proto $path"  # sum and sum of squares of this round's gatewayd / other ratio
      RATIO[$k]=$(awk -v a="${RATIO[$k]:-0 0}" -v g="${ROUND[gatewayd]}" -v n="${ROUND[nghttpx]}" \
        'BEGIN{split(a,x," "); r=g/n; printf "%f %f", x[1]+r, x[2]+r*r}')
    done
  done
done


echo
B=$B_NAME
echo "## h2load -c 32 -m 10 -D $DUR (means of $ROUNDS rounds; ratio = gatewayd / $B)"
echo
echo "| protocol | path | gatewayd req/s | $B req/s | ratio | per-round ratio ± SE | gatewayd p50 / p99 ms | $B p50 / p99 ms | gatewayd CPU µs/req | $B CPU µs/req | backend CPU µs/req (gatewayd / $B) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for proto in h2c h2; do for path in /small /16k; do
  want $proto $path || continue
  read -r gr gp gq gc gk <<<"${SUM[$proto $path gatewayd]}"; read -r nr np nq nc nk <<<"${SUM[$proto $path nghttpx]}"
  read -r rs rq <<<"${RATIO[$proto $path]}"
  awk -v pr="$proto" -v pa="$path" -v gr="$gr" -v gp="$gp" -v gq="$gq" -v gc="$gc" -v nr="$nr" -v np="$np" -v nq="$nq" \
    -v nc="$nc" -v gk="$gk" -v nk="$nk" -v n=$ROUNDS -v rs="$rs" -v rq="$rq" \
    'BEGIN{m=rs/n; se=(n>1 && rq-n*m*m>0) ? sqrt((rq-n*m*m)/(n-1)/n) : 0;
      printf "| %s | %s | %.0f | %.0f | %.2f× | %.3f ± %.3f | %.2f / %.2f | %.2f / %.2f | %.1f | %.1f | %.1f / %.1f |\n", pr, pa, gr/n, nr/n, gr/nr, m, se, gp/n, gq/n, np/n, nq/n, gc/n, nc/n, gk/n, nk/n}'
done; done
echo
echo "CPU µs/req: utime+stime of the proxy (nghttpx: master + worker) over the run / requests done;"
echo "on a 2-core machine shared with h2load and the backend it is steadier than req/s. Backend CPU:"
echo "the same for the nginx behind both (what each proxy's requests cost it)."
echo
echo "## memory, $HOLD idle HTTP/2 (h2c) connections"
echo
echo "| proxy | RSS idle (KiB) | RSS with $HOLD conns (KiB) | per connection (KiB) |"
echo "| --- | --- | --- | --- |"
awk -v b="$gb" -v a="$ga" -v n=$HOLD 'BEGIN{printf "| gatewayd | %d | %d | %.1f |\n", b, a, (a-b)/n}'
B_MEM="$B_NAME"; [[ -z "$B_GW" ]] && B_MEM="nghttpx (master + worker)"
awk -v b="$nb" -v a="$na" -v n=$HOLD -v l="$B_MEM" 'BEGIN{printf "| %s | %d | %d | %.1f |\n", l, b, a, (a-b)/n}'
