#!/usr/bin/env bash
# HTTP/1.1 reverse-proxy benchmark: gatewayd vs nginx, same machine, same run, same backend.
#
# Usage (from the repo root):   bash tests/load/run.sh [--quick]
#   --quick        shorter runs (~1 minute instead of ~3)
#   env GATEWAYD   path to the gatewayd binary (default: build/release, then build/load)
#   env WORKERS    worker count for BOTH proxies (default 1; the machine this was written on has 2 cores,
#                  and the load generator and the backend need CPU too)
#   env KEEP=1     keep the temp dir (configs, logs, raw tool output) for inspection
#
# What it does (loopback only; everything it starts is stopped by the EXIT trap):
#   * Backend: one nginx instance (1 worker) on its own port, serving
#       GET  /small -> 200, 13-byte body ("return 200"),
#       POST /post  -> reads (discards) the 1 KB request body and answers 200 with a short text
#                      ("return 200" makes nginx read and discard the body before replying),
#       GET  /1mb   -> a 1 MiB static file (sendfile).
#     nginx rather than a Python server so that the proxies, not the backend, are the bottleneck.
#   * Two proxies in front of that same backend, same worker count, access logs off on both:
#       gatewayd (logs.access "off", upstream keepalive 64),
#       nginx    (proxy_http_version 1.1, Connection "", upstream keepalive 64, keepalive_requests 100000,
#                 and the same request/response headers gatewayd adds: X-Forwarded-For/-Proto/-Host/-Port,
#                 X-Request-Id both ways; proxy buffers 16x16k = 256 KiB, like gatewayd's buffer_bytes,
#                 and no temp-file spooling (gatewayd never spools to disk)).
#   * Load: wrk --latency (1 thread) and h2load --h1 (1 thread) for small GET (64 conns), 1 KB POST
#     (64 conns; wrk via a lua script, h2load via -d) and 1 MiB GET (16 conns). Runs alternate
#     gatewayd, nginx, gatewayd, nginx per case after a short unrecorded warm-up of each.
#     A direct-to-backend wrk run per case is printed as the physical ceiling.
#   * Memory: RSS (and PSS) of gatewayd (one process) and nginx (master + workers, summed) at idle,
#     with 1,000 idle keep-alive client connections open (each sent one request first), and idle again
#     after the load.
#   * CPU time per request of each proxy (utime+stime from /proc, nginx master+workers summed): a
#     load-independent cost measure, useful on a shared machine where req/s swings between runs.
#   * Prints per-run raw numbers, then Markdown tables (means over the rounds; ratio = gatewayd/nginx).
#
# Tools needed (installed from Debian packages, nothing is installed at run time):
#   nginx (nginx-light), wrk, h2load (nghttp2-client), curl, /usr/bin/python3.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUICK=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$a' (only --quick)" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORKERS=${WORKERS:-1}
if ((QUICK)); then
  DUR=2; H2DUR=2; ROUNDS=2; WARM=1; HOLD_CONNS=1000
else
  DUR=6; H2DUR=4; ROUNDS=2; WARM=1; HOLD_CONNS=1000
fi
C_SMALL=64; C_BIG=16

# ---------------------------------------------------------------- tools
GW=${GATEWAYD:-}
if [[ -z "$GW" ]]; then
  for cand in "$ROOT/build/release/gateway/gatewayd" "$ROOT/build/release/gatewayd" \
              "$ROOT/build/load/gateway/gatewayd" "$ROOT/build/load/gatewayd"; do
    [[ -x "$cand" ]] && { GW=$cand; break; }
  done
fi
if [[ -z "$GW" || ! -x "$GW" ]]; then
  echo "run.sh: gatewayd not found (looked in build/release and build/load; or set GATEWAYD=/path/to/gatewayd)." >&2
  echo "  build it: cmake -S . -B build/load -G Ninja -DCMAKE_BUILD_TYPE=Release -DGW_BUILD_TESTS=OFF -DGW_BUILD_BENCH=OFF && cmake --build build/load --target gatewayd" >&2
  exit 2
fi
NGINX=$(command -v nginx || true); [[ -z "$NGINX" && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
PY=/usr/bin/python3
missing=()
[[ -n "$NGINX" ]] || missing+=("nginx (Debian package nginx-light)")
command -v wrk >/dev/null || missing+=("wrk (Debian package wrk)")
command -v h2load >/dev/null || missing+=("h2load (Debian package nghttp2-client)")
command -v curl >/dev/null || missing+=("curl (Debian package curl)")
[[ -x "$PY" ]] || missing+=("/usr/bin/python3 (Debian package python3)")
if ((${#missing[@]})); then
  printf 'run.sh: missing tool: %s\n' "${missing[@]}" >&2
  echo "run.sh: installs nothing itself; install the packages above and re-run." >&2
  exit 2
fi

# ---------------------------------------------------------------- workspace, cleanup
W=$(mktemp -d /tmp/gw-load.XXXXXX)
chmod 755 "$W"   # nginx workers run as an unprivileged user and must read the docroot
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" == 1 ]]; then echo "run.sh: kept $W" >&2; else rm -rf "$W"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Global watchdog: the whole run is bounded even if a tool hangs.
LIMIT=$(( QUICK ? 180 : 420 ))
# (The subshell kills its own sleep when it is TERMed, so no orphan keeps the caller's pipes open.)
MAIN_PID=$$
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM
  sleep "$LIMIT" & sp=$!; wait "$sp"
  echo "run.sh: watchdog: exceeded ${LIMIT}s, aborting" >&2; kill -TERM "$MAIN_PID" ) </dev/null >/dev/null &
PIDS+=($!)

# File descriptors: 1,000 held connections + upstream sockets; the hard limit here is 20000.
HARD=$(ulimit -Hn)
if [[ "$HARD" == unlimited ]] || (( HARD > 20000 )); then HARD=20000; fi
ulimit -n "$HARD" 2>/dev/null || true
if (( $(ulimit -n) < HOLD_CONNS + 200 )); then
  HOLD_CONNS=$(( $(ulimit -n) - 200 ))
  echo "run.sh: ulimit -n is $(ulimit -n); holding only $HOLD_CONNS idle connections" >&2
fi


# ---------------------------------------------------------------- backend (nginx, static)
mkdir -p "$W/www" "$W/be/logs" "$W/be/tmp" "$W/px/logs" "$W/px/tmp"
printf 'hello, world\n' > "$W/www/small"
head -c 1048576 /dev/zero | tr '\0' 'x' > "$W/www/1mb"
head -c 1024 /dev/zero | tr '\0' 'p' > "$W/post.bin"
chmod -R a+rX "$W/www"
BE_PORT=$(free_port)
cat > "$W/be/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $W/be/logs/nginx.pid;
error_log $W/be/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000;
  keepalive_timeout 120s;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  default_type application/octet-stream;
  client_body_temp_path $W/be/tmp/body; proxy_temp_path $W/be/tmp/proxy;
  fastcgi_temp_path $W/be/tmp/fcgi; uwsgi_temp_path $W/be/tmp/uwsgi; scgi_temp_path $W/be/tmp/scgi;
  server {
    listen 127.0.0.1:$BE_PORT backlog=4096;
    root $W/www;
    location = /small { default_type text/plain; return 200 "hello, world\n"; }
    location = /post  { client_max_body_size 1m; client_body_buffer_size 16k;
                        default_type text/plain; return 200 "got \$content_length bytes\n"; }
    location = /1mb   { }
  }
}
EOF
"$NGINX" -p "$W/be" -c "$W/be/nginx.conf" 2>>"$W/be/logs/stderr" & BE_PID=$!; PIDS+=($BE_PID)
wait_tcp "$BE_PORT"

# ---------------------------------------------------------------- gatewayd
# The binary runs as a private copy named gwd-bench, with a config file whose name does not say
# "gatewayd": on a shared machine a stray `pkill gatewayd` from someone else's test must not stop
# the process under test halfway through (this happened while the script was being written).
cp "$GW" "$W/gwd-bench"
cat > "$W/gw.yaml" <<EOF
workers: $WORKERS
listeners:
  - {name: load, address: 127.0.0.1, port: 0, backlog: 4096}
limits: {max_connections: 10000}
upstreams:
  - {name: backend, servers: ["127.0.0.1:$BE_PORT"], keepalive: 64}
routes:
  - {upstream: backend}
logs: {access: "off"}
EOF
"$W/gwd-bench" -c "$W/gw.yaml" --workers "$WORKERS" 2>"$W/gatewayd.log" & GW_PID=$!; PIDS+=($GW_PID)
GW_PORT=
for _ in $(seq 1 100); do
  GW_PORT=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$W/gatewayd.log" | head -1)
  [[ -n "$GW_PORT" ]] && break
  kill -0 "$GW_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ -z "$GW_PORT" ]]; then echo "run.sh: gatewayd did not start:" >&2; cat "$W/gatewayd.log" >&2; exit 1; fi
wait_tcp "$GW_PORT"

# ---------------------------------------------------------------- reference nginx proxy
NG_PORT=$(free_port)
cat > "$W/px/nginx.conf" <<EOF
daemon off;
worker_processes $WORKERS;
worker_rlimit_nofile 20000;
pid $W/px/logs/nginx.pid;
error_log $W/px/logs/error.log warn;
events { worker_connections 10000; }
http {
  access_log off;
  keepalive_requests 100000;
  keepalive_timeout 60s;
  tcp_nodelay on;
  client_body_temp_path $W/px/tmp/body; proxy_temp_path $W/px/tmp/proxy;
  fastcgi_temp_path $W/px/tmp/fcgi; uwsgi_temp_path $W/px/tmp/uwsgi; scgi_temp_path $W/px/tmp/scgi;
  upstream backend { server 127.0.0.1:$BE_PORT; keepalive 64; keepalive_requests 100000; }
  server {
    listen 127.0.0.1:$NG_PORT backlog=4096;
    client_max_body_size 1g;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Port \$server_port;
      proxy_set_header X-Request-Id \$request_id;
      add_header X-Request-Id \$request_id always;
      proxy_buffer_size 16k; proxy_buffers 16 16k; proxy_busy_buffers_size 32k;
      proxy_max_temp_file_size 0;
    }
  }
}
EOF
"$NGINX" -p "$W/px" -c "$W/px/nginx.conf" 2>>"$W/px/logs/stderr" & NG_PID=$!; PIDS+=($NG_PID)
wait_tcp "$NG_PORT"

declare -A PORT=([gatewayd]=$GW_PORT [nginx]=$NG_PORT [backend]=$BE_PORT)

# ---------------------------------------------------------------- sanity: both proxies answer correctly
for t in gatewayd nginx backend; do
  p=${PORT[$t]}
  s=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$p/small")
  o=$(curl -sS -o /dev/null -w '%{http_code}' --data-binary @"$W/post.bin" -H 'Content-Type: application/octet-stream' "http://127.0.0.1:$p/post")
  b=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:$p/1mb")
  if [[ "$s" != "200 13" || "$o" != 200 || "$b" != "200 1048576" ]]; then
    echo "run.sh: $t answers wrongly: /small=[$s] /post=[$o] /1mb=[$b]" >&2; exit 1
  fi
done

# ---------------------------------------------------------------- memory helpers
cat > "$W/hold.py" <<'EOF'
"""Open N keep-alive connections to 127.0.0.1:PORT, send one GET on each, read the response, then hold
them open (idle) until killed or HOLD seconds pass. Prints 'ready OK/N' once all are idle."""
import resource, socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(n + 64, hard), hard))
req = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: hold.py\r\n\r\n"
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    socks.append(s)
ok = 0
for s in socks:
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    clen = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length": clen = int(v)
    while len(body) < clen:
        d = s.recv(4096)
        if not d: break
        body += d
    if head.startswith(b"HTTP/1.1 200") and len(body) == clen: ok += 1
print(f"ready {ok}/{n}", flush=True)
time.sleep(hold)
EOF

mem_of() {  # $1 = pid of gatewayd or nginx master -> "rss_kb pss_kb" summed over the process and its children
  local p rss=0 pss=0 r s
  for p in "$1" $(kids "$1"); do
    r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0}))
  done
  echo "$rss $pss"
}
declare -A PIDOF=([gatewayd]=$GW_PID [nginx]=$NG_PID [backend]=$BE_PID)
alive() {  # $1 = target: stop with a clear message if the process under test is gone
  kill -0 "${PIDOF[$1]}" 2>/dev/null && return 0
  echo "run.sh: $1 (pid ${PIDOF[$1]}) is no longer running; aborting. Last log lines:" >&2
  case "$1" in
    gatewayd) tail -5 "$W/gatewayd.log" >&2 ;;
    nginx) tail -5 "$W/px/logs/error.log" "$W/px/logs/stderr" >&2 ;;
    backend) tail -5 "$W/be/logs/error.log" "$W/be/logs/stderr" >&2 ;;
  esac
  exit 1
}
MEMF="$W/mem.tsv"; : > "$MEMF"
record_mem() { local t=$1 phase=$2; echo -e "$t\t$phase\t$(mem_of "${PIDOF[$t]}" | tr ' ' '\t')" >> "$MEMF"; }
hold_and_measure() {  # $1 = target
  local t=$1 out="$W/hold.$1.out" hp
  "$PY" "$W/hold.py" "${PORT[$t]}" "$HOLD_CONNS" 60 > "$out" 2>&1 & hp=$!; PIDS+=($hp)
  for _ in $(seq 1 300); do grep -q '^ready' "$out" 2>/dev/null && break; kill -0 "$hp" 2>/dev/null || break; sleep 0.1; done
  if ! grep -q '^ready' "$out"; then echo "run.sh: hold.py against $t failed:" >&2; cat "$out" >&2; exit 1; fi
  sleep 0.5
  record_mem "$t" "conns"
  echo "  $t: $(cat "$out") connections held; rss/pss kB: $(tail -1 "$MEMF" | cut -f3,4)"
  grep -q "^ready $HOLD_CONNS/$HOLD_CONNS" "$out" || echo "  WARNING: not every held request got a 200 from $t"
  kill -TERM "$hp" 2>/dev/null || true; wait "$hp" 2>/dev/null || true
  sleep 0.5
}

echo "gatewayd: $GW   (nproc $(nproc), load average at start: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "workers per proxy: $WORKERS   backend: nginx 1 worker on :$BE_PORT   gatewayd :$GW_PORT   nginx :$NG_PORT"
echo "mode: $([[ $QUICK == 1 ]] && echo quick || echo full)   wrk ${DUR}s x $ROUNDS rounds, h2load ${H2DUR}s x $ROUNDS rounds"
echo
echo "== memory: idle, then $HOLD_CONNS idle keep-alive connections"
sleep 0.5
record_mem gatewayd idle; record_mem nginx idle
hold_and_measure gatewayd
hold_and_measure nginx

# ---------------------------------------------------------------- load
cat > "$W/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body   = string.rep("p", 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
EOF
RES="$W/results.tsv"; : > "$RES"

lat_ms() {  # wrk latency "812.00us" / "1.23ms" / "1.01s" -> ms
  awk -v v="$1" 'BEGIN{ n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /m$/) n*=60000; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'
}
run_wrk() {  # target case round
  local t=$1 c=$2 r=$3 conns=$C_SMALL path=/small extra=() out
  case "$c" in post) path=/post; extra=(-s "$W/post.lua") ;; 1mb) path=/1mb; conns=$C_BIG ;; esac
  out="$W/wrk.$t.$c.$r.txt"
  alive "$t"
  local c0 c1 nreq cpu
  c0=$(cpu_ticks "${PIDOF[$t]}")
  timeout $((DUR + 20)) wrk -t1 -c"$conns" -d"${DUR}s" --latency "${extra[@]}" "http://127.0.0.1:${PORT[$t]}$path" > "$out" 2>&1 || true
  c1=$(cpu_ticks "${PIDOF[$t]}")
  nreq=$(awk '/requests in/{print $1}' "$out")
  cpu=$(cpu_us_per_req "$c0" "$c1" "$nreq")
  local rps p50 p99 non2xx sockerr
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  p50=$(lat_ms "$(awk '$1=="50%"{print $2}' "$out")")
  p99=$(lat_ms "$(awk '$1=="99%"{print $2}' "$out")")
  non2xx=$(awk '/Non-2xx/{print $NF}' "$out"); non2xx=${non2xx:-0}
  sockerr=$(awk '/Socket errors/{gsub(",","");print $4+$6+$8+$10}' "$out"); sockerr=${sockerr:-0}
  [[ -n "$rps" ]] || { echo "  wrk failed against $t ($c):"; cat "$out"; alive "$t"; rps=0; }
  echo -e "wrk\t$c\t$t\t$r\t${rps}\t${p50}\t${p99}\t$((non2xx + sockerr))\t${cpu}" >> "$RES"
  printf '  wrk    %-5s %-8s round %s: %10s req/s  p50 %8s ms  p99 %8s ms  cpu %7s us/req  errors %s\n' "$c" "$t" "$r" "$rps" "$p50" "$p99" "$cpu" "$((non2xx + sockerr))"
}
run_h2load() {  # target case round
  local t=$1 c=$2 r=$3 conns=$C_SMALL path=/small extra=() out
  case "$c" in post) path=/post; extra=(-d "$W/post.bin" -H 'content-type: application/octet-stream') ;; 1mb) path=/1mb; conns=$C_BIG ;; esac
  out="$W/h2load.$t.$c.$r.txt"
  alive "$t"
  local c0 c1 nreq cpu
  c0=$(cpu_ticks "${PIDOF[$t]}")
  timeout $((H2DUR + 20)) h2load --h1 -t1 -c"$conns" -D "$H2DUR" "${extra[@]}" "http://127.0.0.1:${PORT[$t]}$path" > "$out" 2>&1 || true
  c1=$(cpu_ticks "${PIDOF[$t]}")
  nreq=$(awk '/^requests:/{print $8}' "$out")
  cpu=$(cpu_us_per_req "$c0" "$c1" "$nreq")
  local rps mean failed
  rps=$(awk '/^finished in/{gsub(",","",$4); print $4}' "$out")
  mean=$(awk '/^time for request:/{print $6}' "$out")
  mean=$(lat_ms "${mean:-0ms}")
  failed=$(awk '/^requests:/{print $10+$12}' "$out"); failed=${failed:-0}
  [[ -n "$rps" ]] || { echo "  h2load failed against $t ($c):"; cat "$out"; alive "$t"; rps=0; }
  echo -e "h2load\t$c\t$t\t$r\t${rps}\t${mean}\t\t${failed}\t${cpu}" >> "$RES"
  printf '  h2load %-5s %-8s round %s: %10s req/s  mean %7s ms                 cpu %7s us/req  errors %s\n' "$c" "$t" "$r" "$rps" "$mean" "$cpu" "$failed"
}
warm() {  # target case: short unrecorded wrk run
  local t=$1 c=$2 conns=$C_SMALL path=/small extra=()
  case "$c" in post) path=/post; extra=(-s "$W/post.lua") ;; 1mb) path=/1mb; conns=$C_BIG ;; esac
  timeout $((WARM + 20)) wrk -t1 -c"$conns" -d"${WARM}s" "${extra[@]}" "http://127.0.0.1:${PORT[$t]}$path" >/dev/null 2>&1 || true
}

for c in small post 1mb; do
  echo
  echo "== $c"
  warm gatewayd "$c"; warm nginx "$c"
  for r in $(seq 1 "$ROUNDS"); do run_wrk gatewayd "$c" "$r"; run_wrk nginx "$c" "$r"; done
  for r in $(seq 1 "$ROUNDS"); do run_h2load gatewayd "$c" "$r"; run_h2load nginx "$c" "$r"; done
  run_wrk backend "$c" 1
done

echo
echo "== memory after the load (idle); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
sleep 1
alive gatewayd; alive nginx
record_mem gatewayd after; record_mem nginx after

# ---------------------------------------------------------------- report
echo
"$PY" - "$RES" "$MEMF" "$HOLD_CONNS" "$WORKERS" "$DUR" "$H2DUR" "$ROUNDS" <<'EOF'
import sys, statistics as st
res, memf, nconn, workers, dur, h2dur, rounds = sys.argv[1:8]
nconn = int(nconn)
rows = [l.rstrip("\n").split("\t") for l in open(res) if l.strip()]
def agg(tool, case, tgt):
    r = [x for x in rows if x[0] == tool and x[1] == case and x[2] == tgt]
    if not r: return None
    f = lambda i: st.mean(float(x[i]) for x in r) if all(x[i] for x in r) else None
    return dict(rps=f(4), l1=f(5), l2=f(6), err=sum(int(float(x[7] or 0)) for x in r),
                cpu=st.mean(float(x[8]) for x in r) if all(len(x) > 8 and x[8] for x in r) else None,
                lo=min(float(x[4]) for x in r), hi=max(float(x[4]) for x in r))
def fmt(v, d=2): return "—" if v is None else f"{v:,.{d}f}"
def ratio(a, b): return "—" if not a or not b else f"{a / b:.2f}×"
names = {"small": "small GET (13 B, 64 conns)", "post": "1 KB POST (64 conns)", "1mb": "1 MiB GET (16 conns)"}
print(f"### Throughput and latency (workers={workers}; wrk -t1 {dur}s, h2load --h1 -t1 {h2dur}s; mean of {rounds} alternating rounds)")
print()
print("| case | tool | gatewayd req/s | nginx req/s | ratio g/n | gatewayd p50 ms | nginx p50 ms | gatewayd p99 ms | nginx p99 ms | p99 ratio g/n | gatewayd CPU µs/req | nginx CPU µs/req | CPU ratio g/n | direct backend req/s |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
notes = []
for case in ("small", "post", "1mb"):
    for tool in ("wrk", "h2load"):
        g, n = agg(tool, case, "gatewayd"), agg(tool, case, "nginx")
        if not g or not n: continue
        b = agg("wrk", case, "backend") if tool == "wrk" else None
        if tool == "wrk":
            lat = [fmt(g["l1"], 3), fmt(n["l1"], 3), fmt(g["l2"], 3), fmt(n["l2"], 3), ratio(g["l2"], n["l2"])]
        else:  # h2load reports no percentiles: mean request time in the p50 columns
            lat = [f"mean {fmt(g['l1'], 3)}", f"mean {fmt(n['l1'], 3)}", "—", "—", "—"]
        cpu = [fmt(g["cpu"], 1), fmt(n["cpu"], 1), ratio(g["cpu"], n["cpu"])]
        print(f"| {names[case]} | {tool} | {fmt(g['rps'], 0)} | {fmt(n['rps'], 0)} | {ratio(g['rps'], n['rps'])} | "
              + " | ".join(lat + cpu) + f" | {fmt(b['rps'], 0) if b else ''} |")
        for who, a in (("gatewayd", g), ("nginx", n)):
            if a["err"]: notes.append(f"{tool} {case} {who}: {a['err']} errors/non-2xx")
            if a["hi"] > 0 and (a["hi"] - a["lo"]) / a["hi"] > 0.10:
                notes.append(f"{tool} {case} {who}: rounds spread {a['lo']:,.0f}–{a['hi']:,.0f} req/s (>10%)")
print()
print("CPU µs/req = (utime+stime of the proxy: gatewayd's process, nginx's master + workers) / requests completed;")
print("it is much less sensitive to other load on the machine than req/s (lower is better; ratio > 1 = gatewayd costlier).")
print()
for s in notes: print(f"- {s}")
if notes: print()
mem = {}
for l in open(memf):
    t, phase, rss, pss = l.split()
    mem[(t, phase)] = (int(rss), int(pss))
print(f"### Memory (kB; gatewayd = 1 process, nginx = master + {workers} worker(s) summed)")
print()
print(f"| metric | gatewayd | nginx | ratio g/n |")
print("|---|---:|---:|---:|")
for phase, label in (("idle", "RSS idle (fresh)"), ("conns", f"RSS with {nconn} idle keep-alive conns"), ("after", "RSS idle after the load")):
    g, n = mem.get(("gatewayd", phase)), mem.get(("nginx", phase))
    if g and n: print(f"| {label} | {g[0]:,} | {n[0]:,} | {ratio(g[0], n[0])} |")
g0, g1, n0, n1 = mem.get(("gatewayd", "idle")), mem.get(("gatewayd", "conns")), mem.get(("nginx", "idle")), mem.get(("nginx", "conns"))
if g0 and g1 and n0 and n1:
    gd, nd = (g1[0] - g0[0]) * 1024 / nconn, (n1[0] - n0[0]) * 1024 / nconn
    print(f"| RSS per idle connection (bytes) | {gd:,.0f} | {nd:,.0f} | {ratio(gd, nd) if nd > 0 else '—'} |")
    for phase, label in (("idle", "PSS idle (fresh)"), ("conns", f"PSS with {nconn} conns")):
        g, n = mem[("gatewayd", phase)], mem[("nginx", phase)]
        print(f"| {label} | {g[1]:,} | {n[1]:,} | {ratio(g[1], n[1])} |")
EOF
