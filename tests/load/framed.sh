#!/usr/bin/env bash
# App-worker benchmark (issue 4): the same WSGI app (tests/support/environ_app.py, GET /hello) under
# uWSGI, reached through gatewayd (FastCGI and uwsgi) and through nginx (fastcgi_pass with
# keep-alive, uwsgi_pass), and served directly by gevent.pywsgi and cheroot. Same machine, same
# run; rounds alternate the targets. Prints requests/s and p99 (wrk --latency) per target, the proxies' CPU time per request (utime+stime; nginx: master + worker) and the
# ratios gatewayd/nginx per protocol.
#
# Usage (from the repo root):  bash tests/load/framed.sh [--quick | --callgrind]
#   --callgrind: instead of wrk rounds, both proxies run under valgrind's callgrind and each gets
#   N=${CG_N:-5000} requests per protocol (h2load --h1 -c 8): user-space instructions per request of
#   the proxy process, deterministic whatever else the machine is doing.
#   env GATEWAYD   gatewayd binary (default: build/release/gateway/gatewayd, then build/h-framed-rel)
#   env PROCS      uWSGI worker processes (default 2), env CONNS wrk connections (default 16)
#   env KEEP=1     keep the temp dir
# Needs: uwsgi + uwsgi-plugin-python3, nginx, wrk, python3-gevent, python3-cherrypy3 (cheroot).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DUR=5; ROUNDS=3
[[ "${1:-}" == "--quick" ]] && { DUR=2; ROUNDS=2; }
CG=0; [[ "${1:-}" == "--callgrind" ]] && CG=1
CG_N=${CG_N:-5000}
WRAP=(); ((CG)) && WRAP=(valgrind --tool=callgrind --quiet --compress-strings=no)
PROCS=${PROCS:-2}; CONNS=${CONNS:-16}
GW=${GATEWAYD:-}
for cand in "$ROOT/build/release/gateway/gatewayd" "$ROOT/build/h-framed-rel/gateway/gatewayd"; do
  [[ -z "$GW" && -x "$cand" ]] && GW=$cand
done
[[ -x "$GW" ]] || { echo "framed.sh: no gatewayd binary (set GATEWAYD)" >&2; exit 2; }

W=$(mktemp -d /tmp/framed-bench.XXXXXX); chmod 755 "$W"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
            for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
            [[ "${KEEP:-0}" == 1 ]] || rm -rf "$W"; }
trap cleanup EXIT

P_FCGI=$(free_port); P_UWSGI=$(free_port); P_GW=$(free_port); P_NGX=$(free_port); P_GEV=$(free_port); P_CHR=$(free_port)
uwsgi --plugin python3 --master --processes "$PROCS" --die-on-term --need-app --disable-logging \
  --fastcgi-socket 127.0.0.1:$P_FCGI --socket 127.0.0.1:$P_UWSGI --chdir "$ROOT/tests/support" \
  --wsgi-file environ_app.py --logto "$W/uwsgi.log" & PIDS+=($!)
UW_PID=$!
/usr/bin/python3 "$ROOT/tests/support/environ_app.py" gevent $P_GEV & PIDS+=($!)
THREADS=8 /usr/bin/python3 "$ROOT/tests/support/environ_app.py" cheroot $P_CHR & PIDS+=($!)

cat > "$W/gw.yaml" <<YAML
workers: 1
listeners: [{name: main, address: 127.0.0.1, port: $P_GW}]
upstreams:
  - {name: fcgi, kind: fastcgi, servers: ["127.0.0.1:$P_FCGI"], keepalive: 64}
  - {name: uw, kind: uwsgi, servers: ["127.0.0.1:$P_UWSGI"]}
routes:
  - {prefix: /fcgi, upstream: fcgi}
  - {prefix: /uwsgi, upstream: uw}
logs: {access: "off", level: warn}
YAML
GW_CMD=("$GW"); ((CG)) && GW_CMD=("${WRAP[@]}" --callgrind-out-file="$W/cg.gw.%p" "$GW")
"${GW_CMD[@]}" -c "$W/gw.yaml" 2>"$W/gw.err" & PIDS+=($!)
GW_PID=$!

mkdir -p "$W/ngx/logs" "$W/ngx/tmp"
cat > "$W/ngx/nginx.conf" <<NGX
daemon off;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fcgi; uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  upstream fcgi { server 127.0.0.1:$P_FCGI; keepalive 64; }
  upstream uw { server 127.0.0.1:$P_UWSGI; }
  server {
    listen 127.0.0.1:$P_NGX;
    location /fcgi/  { include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_NAME /fcgi;
                       fastcgi_param PATH_INFO \$uri; fastcgi_keep_conn on; fastcgi_pass fcgi; }
    location /uwsgi/ { include /etc/nginx/uwsgi_params; uwsgi_pass uw; }
  }
}
NGX
if ((CG)); then  # one process, so callgrind sees the worker's instructions
  "${WRAP[@]}" --callgrind-out-file="$W/cg.ngx.%p" nginx -p "$W/ngx" -c nginx.conf -g 'master_process off;' & PIDS+=($!)
else
  nginx -p "$W/ngx" -c nginx.conf & PIDS+=($!)
fi
NGX_PID=$!
for p in $P_FCGI $P_UWSGI $P_GW $P_NGX $P_GEV $P_CHR; do wait_tcp $p; done

declare -A URL=(
  [gatewayd-fastcgi]="http://127.0.0.1:$P_GW/fcgi/hello"   [nginx-fastcgi]="http://127.0.0.1:$P_NGX/fcgi/hello"
  [gatewayd-uwsgi]="http://127.0.0.1:$P_GW/uwsgi/hello"    [nginx-uwsgi]="http://127.0.0.1:$P_NGX/uwsgi/hello"
  [gevent-direct]="http://127.0.0.1:$P_GEV/hello"          [cheroot-direct]="http://127.0.0.1:$P_CHR/hello")
ORDER=(gatewayd-fastcgi nginx-fastcgi gatewayd-uwsgi nginx-uwsgi gevent-direct cheroot-direct)
for t in "${ORDER[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${URL[$t]}"); [[ $code == 200 ]] || { echo "$t: HTTP $code" >&2; exit 1; }
  ((CG)) || wrk -t1 -c"$CONNS" -d1s "${URL[$t]}" >/dev/null  # warm-up
done

if ((CG)); then
  echo "| proxy → uWSGI | instructions for $CG_N requests | per request |"
  echo "| --- | ---: | ---: |"
  for proto in fastcgi uwsgi; do
    for who in gatewayd nginx; do
      pid=$GW_PID; [[ $who == nginx ]] && pid=$NGX_PID
      n=$(cg_phase "$W" "$pid" h2load --h1 -n "$CG_N" -c 8 "${URL[$who-$proto]}")
      echo "| $who ($proto) | $n | $(awk -v n="$n" -v r="$CG_N" 'BEGIN{printf "%.1f k", n/r/1000}') |"
    done
  done
  exit 0
fi

declare -A RPS P99 CPU APP
declare -A PROXY_PID=([gatewayd-fastcgi]=$GW_PID [gatewayd-uwsgi]=$GW_PID [nginx-fastcgi]=$NGX_PID [nginx-uwsgi]=$NGX_PID)
echo "round target req/s p99_ms errors proxy_cpu_us_per_req uwsgi_cpu_us_per_req"
for r in $(seq 1 $ROUNDS); do
  for t in "${ORDER[@]}"; do
    pid=${PROXY_PID[$t]:-}
    c0=$([[ -n $pid ]] && cpu_ticks "$pid" || echo 0); u0=$(cpu_ticks "$UW_PID")
    out=$(wrk -t1 -c"$CONNS" -d${DUR}s --latency "${URL[$t]}")
    c1=$([[ -n $pid ]] && cpu_ticks "$pid" || echo 0); u1=$(cpu_ticks "$UW_PID")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
    err=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    cpu=""; app=""; n=$(awk '/requests in/ {print $1}' <<<"$out")
    [[ -n $pid ]] && { cpu=$(cpu_us_per_req "$c0" "$c1" "$n"); app=$(cpu_us_per_req "$u0" "$u1" "$n"); }
    echo "$r $t $rps $p99 ${err:-0} $cpu $app"
    RPS[$t]="${RPS[$t]:-} $rps"; P99[$t]="${P99[$t]:-} $p99"
    [[ -n $cpu ]] && { CPU[$t]="${CPU[$t]:-} $cpu"; APP[$t]="${APP[$t]:-} $app"; }
  done
done
echo
echo "| target | req/s | p99 (ms) | proxy CPU µs/req | uWSGI CPU µs/req |"
echo "| --- | --- | --- | --- | --- |"
for t in "${ORDER[@]}"; do
  echo "| $t | $(mean "${RPS[$t]}") | $(mean2 "${P99[$t]}") | $([[ -n ${CPU[$t]:-} ]] && mean "${CPU[$t]}") | $([[ -n ${APP[$t]:-} ]] && mean "${APP[$t]}") |"
done
echo
for proto in fastcgi uwsgi; do
  g=$(mean "${RPS[gatewayd-$proto]}"); n=$(mean "${RPS[nginx-$proto]}")
  gp=$(mean2 "${P99[gatewayd-$proto]}"); np=$(mean2 "${P99[nginx-$proto]}")
  echo "$proto: gatewayd/nginx req/s = $(awk -v a=$g -v b=$n 'BEGIN{printf "%.2f", a/b}')x, p99 $gp ms vs $np ms;" \
       "gatewayd/gevent = $(awk -v a=$g -v b=$(mean "${RPS[gevent-direct]}") 'BEGIN{printf "%.2f", a/b}')x," \
       "gatewayd/cheroot = $(awk -v a=$g -v b=$(mean "${RPS[cheroot-direct]}") 'BEGIN{printf "%.2f", a/b}')x"
done
echo "gatewayd $("$GW" --version 2>&1 | head -1), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo " (+ working tree)"), $(nproc) CPUs, uWSGI $PROCS processes, wrk -t1 -c$CONNS -d${DUR}s x $ROUNDS rounds"
