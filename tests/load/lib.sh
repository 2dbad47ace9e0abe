# Helpers shared by the load scripts (sourced, not run).
# A free loopback TCP port.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits up to 10 s for something to listen on 127.0.0.1:PORT.
wait_tcp() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
             echo "$(basename "$0"): nothing listening on 127.0.0.1:$1 after 10 s" >&2; return 1; }
# Mean of a space-separated list of numbers, 1 or 2 decimals.
mean() { awk '{s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}' <<<"$1"; }
mean2() { awk '{s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.2f", s/NF}' <<<"$1"; }
# wrk's latency ("812.00us", "3.21ms", "1.02s") in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v/1000; else if (v ~ /ms$/) printf "%.3f", v+0; else printf "%.3f", v*1000 }'; }

# One phase of load on a callgrind-run process: zero its counters, run the load command (its
# "requests:" line goes to stderr), dump, print the dump file's path.
# Usage: cg_phase_dump DIR PID command...   (the process writes its dumps to DIR/cg.*.PID*)
cg_phase_dump() {
  local dir=$1 pid=$2; shift 2
  callgrind_control -z "$pid" >/dev/null 2>&1
  "$@" | awk '/^requests:/ {print "  " $0}' >&2
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 0.5
  ls -t "$dir"/cg.*."$pid"* 2>/dev/null | head -1
}
# The same, printing the phase's instructions (the dump's first event total).
cg_phase() { awk '/^(summary|totals):/ {print $2; exit}' "$(cg_phase_dump "$@")"; }
# Totals of the named events in a dump ("Ir I1mr D1mr D1mw" with --cache-sim=yes), space-separated.
cg_events() {
  local f=$1; shift
  awk -v want="$*" '/^events:/ {for (i = 2; i <= NF; i++) idx[$i] = i}
    /^(summary|totals):/ {n = split(want, w, " "); for (j = 1; j <= n; j++) printf "%s%s", (j > 1 ? " " : ""), $(idx[w[j]]); print ""; exit}' "$f"
}

# CPU time (utime+stime, clock ticks) of the given processes and their children, summed; and the
# CPU microseconds per request from two such readings: cpu_us_per_req TICKS_BEFORE TICKS_AFTER N.
kids() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }
cpu_ticks() {
  local p c t=0 v
  for p in "$@"; do
    for c in "$p" $(kids "$p"); do
      v=$(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0); t=$((t + ${v:-0}))
    done
  done
  echo "$t"
}
cpu_us_per_req() {
  awk -v d=$(($2 - $1)) -v n="${3:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN{ if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "" }'
}
