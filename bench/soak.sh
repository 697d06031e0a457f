#!/usr/bin/env bash
# Issue 16, soak: HANDOFFS handoffs in a row (default 100), each under an HTTP/1.1 keep-alive, an
# HTTP/1.1 `Connection: close` and an h2c load, while IDLE_CONNS idle keep-alive connections stay
# open through all of them (they move from generation to generation). Per handoff it records the
# failed requests and, of the active process once it has settled, its open fds (/proc/PID/fd),
# threads (/proc/PID/task), VmRSS (/proc/PID/status) and heap used after a full GC (jcmd GC.run,
# then GC.heap_info). Targets: 0 failed requests over the whole run; fds and threads after the last
# handoff identical to those after handoff 1; VmRSS within 10 %.
#
# One cycle per handoff:
#   1. start the three loads (bench/loadgen.c: ka, close, h2c; bounded by LOAD_BOUND s each);
#   2. after LOAD_LEAD s, start the next `baton run` with the same config (README "Triggering a
#      handoff"), wait for its serving line and for the old process to exit;
#   3. LOAD_TAIL s more of load on the new process, then SIGTERM the loads (they finish what is in
#      flight and print their counts);
#   4. settle: the new process logged predecessor_drained and its fd count has not changed for
#      SETTLE s (the clusters' idleTimeout is 1s, so the pooled upstream connections, whose number
#      follows the load's peak concurrency, are closed by then: what stays is what the process
#      keeps: listeners, the idle connections, control and admin sockets, the JVM's own files);
#   5. measure: fds (by kind) and threads (by name) first, then VmRSS, then jcmd GC.run and
#      GC.heap_info (the attach itself starts a thread and opens a socket in the process, so it
#      comes after the counts).
# The load runs only around each handoff, not during the settling: under a `Connection: close`
# load the number of open sockets changes with every request, so an fd count taken under load
# says nothing about a leak.
#
# Upstream: nginx (Debian), one process: listener web -> its HTTP/1.1 port (ka, close, idle);
# listener web-h2 -> its h2c port (cluster protocol h2c; the h2c load). Baton as README "Running
# it" starts it (bin/baton with its start-up cache). Everything on 127.0.0.1, every loop bounded in
# count and time; every process started here is ended by its pid (and forgotten once reaped: pids
# are reused on this machine); the work directory is removed at exit, also on Ctrl-C (KEEP_WORK=1
# keeps it).
#
# Usage: bench/soak.sh        (expects sidecar/target/baton.jar; ~15 min for 100 handoffs)
# Knobs: HANDOFFS=100 IDLE_CONNS=200 KA_CONNS=32 CLOSE_CONNS=16 H2_CONNS=8 H2_STREAMS=4
#        LOAD_LEAD=1 LOAD_TAIL=1 LOAD_BOUND=120 SETTLE=2 BATON_JAVA_OPTS="..."
# Output: bench/out/soak-STAMP.csv (a row per handoff), bench/out/soak-STAMP.md (the summary, also
# on stdout), bench/out/soak-STAMP/ (thread names and fd kinds per handoff, loadgen results).
# Exit status 1 if a request failed or a target was not met.
set -euo pipefail

BENCH_NAME=soak
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
HANDOFFS="${HANDOFFS:-100}"
IDLE_CONNS="${IDLE_CONNS:-200}"
KA_CONNS="${KA_CONNS:-32}"
CLOSE_CONNS="${CLOSE_CONNS:-16}"
H2_CONNS="${H2_CONNS:-8}"
H2_STREAMS="${H2_STREAMS:-4}"
LOAD_LEAD="${LOAD_LEAD:-1}"
LOAD_TAIL="${LOAD_TAIL:-1}"
LOAD_BOUND="${LOAD_BOUND:-120}"
SETTLE="${SETTLE:-2}"
for k in HANDOFFS IDLE_CONNS KA_CONNS CLOSE_CONNS H2_CONNS H2_STREAMS LOAD_BOUND; do
  [[ "${!k}" =~ ^[0-9]+$ && "${!k}" -ge 1 ]] || die "$k: \"${!k}\" (expected a whole number >= 1)"
done
for k in LOAD_LEAD LOAD_TAIL SETTLE; do
  [[ "${!k}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$k: \"${!k}\" (expected seconds, e.g. 1 or 0.5)"
done
need jcmd "the JDK's jcmd, next to java (Debian openjdk-17-jdk-headless)"
ensure_pkg curl curl
(($(ulimit -n) > IDLE_CONNS + 1000)) || die "open-files limit $(ulimit -n) too low for IDLE_CONNS=$IDLE_CONNS"

# forget PID: a reaped process leaves PIDS, so that cleanup never signals a reused pid
forget() {
  local p keep=()
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

baton_jvm_as_readme
build_loadgen
LOAD_BEFORE="$(machine_load "before")"
start_nginx

CFG="$WORK/baton.yaml"
cat >"$CFG" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
  - name: web-h2
    address: "127.0.0.1:0"
    protocol: http
    cluster: app-h2
clusters:
  - name: app
    endpoints: ["127.0.0.1:$NGINX_PORT"]
    idleTimeout: 1s
  - name: app-h2
    endpoints: ["127.0.0.1:$NGINX_H2_PORT"]
    protocol: h2c
    idleTimeout: 1s
YAML
start_baton

STAMP="$(date +%Y%m%d-%H%M%S)"
DETAIL="$OUT_DIR/soak-$STAMP"
CSV="$OUT_DIR/soak-$STAMP.csv"
REPORT="$OUT_DIR/soak-$STAMP.md"
mkdir -p "$DETAIL"

# --- idle connections, open for the whole run -----------------------------------------------------
IDLE_BOUND=$((HANDOFFS * 120 + 300))
"$LOADGEN" -p "$BATON_PORT" -m idle -c "$IDLE_CONNS" -d "$IDLE_BOUND" >"$WORK/idle.res" 2>"$WORK/idle.err" &
IDLE_PID=$!
PIDS+=("$IDLE_PID")
wait_for_line "$WORK/idle.res" '^held ' "$IDLE_PID" 120 >/dev/null
log "$(grep '^held ' "$WORK/idle.res") idle connections (one request each), kept open through every handoff"

# --- measuring ------------------------------------------------------------------------------------
fd_count() { local fds=(/proc/"$1"/fd/*); [[ -e "${fds[0]}" ]] && echo "${#fds[@]}" || echo 0; }
# fd_kinds PID: "socket N; file N; ..." from the fds' link targets
fd_kinds() {
  find /proc/"$1"/fd -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null | awk '
    /^socket:/ { k = "socket" } /^pipe:/ { k = "pipe" } /^anon_inode:/ { k = $0; sub(/^anon_inode:/, "", k) }
    /^\// { k = "file" } { n[k]++ } END { for (k in n) printf "%s %d\n", k, n[k] }' | sort
}
thread_names() { cat /proc/"$1"/task/*/comm 2>/dev/null | sed -E 's/[0-9]+$/N/' | sort | uniq -c | sort -k2; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# heap_after_gc PID: "HEAP_USED_KB METASPACE_USED_KB" after a full collection (Serial GC, JDK 17:
# "def new generation total NK, used NK", "tenured generation total NK, used NK", "Metaspace used NK")
heap_after_gc() {
  timeout 60 jcmd "$1" GC.run >/dev/null 2>&1 || { echo "n/a n/a"; return 0; }
  timeout 60 jcmd "$1" GC.heap_info 2>/dev/null | awk '
    /Metaspace/ { for (i = 1; i <= NF; i++) if ($i == "used") m = $(i + 1) + 0 }
    / used [0-9]+K/ && !/Metaspace|class space/ { for (i = 1; i <= NF; i++) if ($i == "used") u += $(i + 1) + 0 }
    END { if (u == 0) print "n/a n/a"; else print u, m }'
}
# settle PID: waits until PID's fd count has not changed for SETTLE s (at most 60 s); sets SETTLE_MS
settle() {
  local t0 last now stable_since n
  t0="$(now_us)"
  last="$(fd_count "$1")"
  stable_since="$t0"
  while :; do
    sleep 0.25
    now="$(now_us)"
    n="$(fd_count "$1")"
    if [[ "$n" != "$last" ]]; then last="$n"; stable_since="$now"; fi
    if (( now - stable_since >= $(awk -v s="$SETTLE" 'BEGIN { printf "%d", s * 1e6 }') )); then break; fi
    if (( now - t0 > 60000000 )); then log "pid $1: fd count still changing after 60 s (last $n)"; break; fi
  done
  SETTLE_MS=$(( ($(now_us) - t0) / 1000 ))
}

# load_start MODE PORT SHAPE...: a bounded loadgen in the background (a child of this shell, so
# that it is reaped here); sets LP
load_start() {
  local mode="$1" port="$2"
  shift 2
  "$LOADGEN" -p "$port" -m "$mode" "$@" -d "$LOAD_BOUND" >"$WORK/load-$mode.res" 2>"$WORK/load-$mode.err" &
  LP=$!
  PIDS+=("$LP")
}
field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" "$2"; }
# cpu_waiting_us: the kernel's CPU pressure, "some" (/proc/pressure/cpu): µs so far in which at least
# one runnable task waited for a CPU (ours or anybody's); "-" without PSI
cpu_waiting_us() { awk '$1 == "some" { sub(/total=/, "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo -; }

echo "handoff,generation,pid,start_to_serving_ms,serving_to_old_exit_ms,ka_served,ka_failed,close_served,close_failed,h2c_served,h2c_failed,h2c_sent_again,failed,settle_ms,fds,fd_sockets,threads,rss_kb,heap_used_after_gc_kb,metaspace_used_kb,loadavg_1m,cpu_waiting_pct" >"$CSV"
FAILED_TOTAL=0
SERVED_TOTAL=0
FAIL_ROWS=""
for i in $(seq 1 "$HANDOFFS"); do
  psi0="$(cpu_waiting_us)"
  t_load0="$(now_us)"
  load_start ka "$BATON_PORT" -c "$KA_CONNS"
  LP_KA="$LP"
  load_start close "$BATON_PORT" -c "$CLOSE_CONNS"
  LP_CLOSE="$LP"
  load_start h2c "$BATON_H2_PORT" -c "$H2_CONNS" -s "$H2_STREAMS"
  LP_H2C="$LP"
  sleep "$LOAD_LEAD"
  old_pid="$BATON_PID"
  old_port="$BATON_PORT"
  start_baton
  [[ "$BATON_PORT" == "$old_port" ]] || die "generation $GEN listens on $BATON_PORT, not $old_port"
  wait_exit "$old_pid" 120
  forget "$old_pid"
  exit_ms=$(( ($(now_us) * 1000 - BATON_SERVING_NS) / 1000000 ))
  sleep "$LOAD_TAIL"
  kill -TERM "$LP_KA" "$LP_CLOSE" "$LP_H2C" 2>/dev/null || true
  for p in "$LP_KA" "$LP_CLOSE" "$LP_H2C"; do wait_exit "$p" 60; forget "$p"; done
  psi1="$(cpu_waiting_us)"
  cpu_wait_pct="$(awk -v a="$psi0" -v b="$psi1" -v w=$(($(now_us) - t_load0)) 'BEGIN { if (a == "-" || w <= 0) print "-"; else printf "%.0f", 100 * (b - a) / w }')"
  row_failed=0
  for m in ka close h2c; do
    grep -q '^loadgen ' "$WORK/load-$m.res" || die "handoff $i: loadgen $m printed no result: $(tail -3 "$WORK/load-$m.err")"
    f="$(field failed "$WORK/load-$m.res")"
    row_failed=$((row_failed + f))
    SERVED_TOTAL=$((SERVED_TOTAL + $(field served "$WORK/load-$m.res")))
    if ((f > 0)); then
      cp "$WORK/load-$m.res" "$DETAIL/handoff-$i-$m.res"
      cp "$WORK/load-$m.err" "$DETAIL/handoff-$i-$m.err"
      cp "$WORK/baton-$((GEN - 1)).out.err" "$DETAIL/handoff-$i-old-generation-$((GEN - 1)).log"
      cp "$WORK/baton-$GEN.out.err" "$DETAIL/handoff-$i-new-generation-$GEN.log"
      log "handoff $i: $f failed $m request(s): $(grep '^loadgen [a-z0-9]*:' "$WORK/load-$m.err" | tail -1)"
    fi
  done
  FAILED_TOTAL=$((FAILED_TOTAL + row_failed))
  causes="" stalls=""
  for m in ka close h2c; do
    for k in f_connect f_reset f_eof f_eof_idle f_bad f_status f_timeout f_lost f_rst f_unfinished; do
      v="$(field "$k" "$WORK/load-$m.res")"
      [[ "$v" == 0 ]] || causes+="$m $k=$v "
    done
    stalls+="$m $(field stall_ms "$WORK/load-$m.res") "
  done
  sent_again=$(( $(field refused_goaway "$WORK/load-h2c.res") + $(field refused_stream "$WORK/load-h2c.res") + $(field not_sent "$WORK/load-h2c.res") ))

  wait_for_line "$WORK/baton-$GEN.out.err" 'predecessor_drained' "$BATON_PID" 60 >/dev/null
  settle "$BATON_PID"
  fds="$(fd_count "$BATON_PID")"
  fd_kinds "$BATON_PID" >"$DETAIL/fds-$i.txt"
  sockets="$(awk '$1 == "socket" { print $2 }' "$DETAIL/fds-$i.txt")"
  threads="$(ls /proc/"$BATON_PID"/task | wc -l)"
  thread_names "$BATON_PID" >"$DETAIL/threads-$i.txt"
  rss="$(rss_kb "$BATON_PID")"
  read -r heap meta <<<"$(heap_after_gc "$BATON_PID")"
  load1="$(cut -d' ' -f1 /proc/loadavg)"
  echo "$i,$GEN,$BATON_PID,$BATON_MS,$exit_ms,$(field served "$WORK/load-ka.res"),$(field failed "$WORK/load-ka.res")," \
       "$(field served "$WORK/load-close.res"),$(field failed "$WORK/load-close.res"),$(field served "$WORK/load-h2c.res")," \
       "$(field failed "$WORK/load-h2c.res"),$sent_again,$row_failed,$SETTLE_MS,$fds,${sockets:-0},$threads,$rss,$heap,$meta,$load1,$cpu_wait_pct" \
    | tr -d ' ' >>"$CSV"
  if ((row_failed > 0)); then
    FAIL_ROWS+="| $i | $row_failed | $causes| $stalls| $BATON_MS | $exit_ms | $load1 | $cpu_wait_pct |"$'\n'
  fi
  log "handoff $i/$HANDOFFS: generation $GEN pid $BATON_PID; failed $row_failed; fds $fds, threads $threads," \
      "RSS $((rss / 1024)) MiB, heap after GC $heap KiB; load average $load1, CPU waiting $cpu_wait_pct %"
done

# --- the idle connections at the end ----------------------------------------------------------------
kill -TERM "$IDLE_PID"
wait_exit "$IDLE_PID" 60
forget "$IDLE_PID"
cp "$WORK/idle.res" "$WORK/idle.err" "$DETAIL/"
IDLE_FAILED="$(field failed "$WORK/idle.res")"
IDLE_HELD="$(sed -nE 's/^held ([0-9]+)/\1/p' "$WORK/idle.res")"
[[ -n "$IDLE_FAILED" ]] || die "the idle connections' loadgen printed no result: $(tail -3 "$WORK/idle.err")"
FAILED_TOTAL=$((FAILED_TOTAL + IDLE_FAILED))
LOAD_AFTER="$(machine_load "after")"

# --- report -------------------------------------------------------------------------------------------
col() { awk -F, -v c="$1" -v r="$2" 'NR > 1 && $1 == r { print $c }' "$CSV"; } # COLUMN HANDOFF
colnum() { head -1 "$CSV" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
at() { col "$(colnum "$1")" "$2"; } # NAME HANDOFF
range() { awk -F, -v c="$(colnum "$1")" 'NR > 1 { if (NR == 2 || $c < lo) lo = $c; if (NR == 2 || $c > hi) hi = $c } END { print lo " – " hi }' "$CSV"; }
sum() { awk -F, -v c="$(colnum "$1")" 'NR > 1 { s += $c } END { print s + 0 }' "$CSV"; }
check() { if [[ "$1" == 1 ]]; then echo "met"; else echo "**not met**"; fi; }
LAST="$HANDOFFS"
FDS_OK=$([[ "$(at fds 1)" == "$(at fds "$LAST")" ]] && echo 1 || echo 0)
THR_OK=$([[ "$(at threads 1)" == "$(at threads "$LAST")" ]] && echo 1 || echo 0)
RSS_PCT="$(awk -v a="$(at rss_kb 1)" -v b="$(at rss_kb "$LAST")" 'BEGIN { printf "%+.1f", 100 * (b - a) / a }')"
RSS_OK=$(awk -v p="$RSS_PCT" 'BEGIN { print (p <= 10 && p >= -10) ? 1 : 0 }')
mib() { awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f", k / 1024; else print k }'; }
{
  echo "## Soak (issue 16) $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Command: \`HANDOFFS=$HANDOFFS IDLE_CONNS=$IDLE_CONNS KA_CONNS=$KA_CONNS CLOSE_CONNS=$CLOSE_CONNS H2_CONNS=$H2_CONNS" \
       "H2_STREAMS=$H2_STREAMS LOAD_LEAD=$LOAD_LEAD LOAD_TAIL=$LOAD_TAIL SETTLE=$SETTLE BATON_JAVA_OPTS=\"${BATON_JAVA_OPTS:-}\" bench/soak.sh\`"
  echo
  machine_header
  echo "$LOAD_BEFORE"
  echo "$LOAD_AFTER"
  echo "- load per handoff: bench/loadgen.c keep-alive ($KA_CONNS connections), Connection: close ($CLOSE_CONNS clients)," \
       "h2c ($H2_CONNS x $H2_STREAMS streams), from $LOAD_LEAD s before the new process starts to $LOAD_TAIL s after the old one exited;" \
       "$IDLE_HELD idle keep-alive connections open through the whole run"
  echo "- measured after each handoff, once the new process logged predecessor_drained and its fd count had not changed" \
       "for $SETTLE s (no load then; clusters' idleTimeout 1s); heap = jcmd GC.run, then GC.heap_info (young + old used)"
  echo "- per handoff: $CSV (thread names and fd kinds per handoff: $DETAIL/)"
  echo
  echo "| | after handoff 1 | after handoff $LAST | range over all | target |"
  echo "|---|---:|---:|---:|---|"
  echo "| open fds | $(at fds 1) | $(at fds "$LAST") | $(range fds) | identical: $(check "$FDS_OK") |"
  echo "| of which sockets | $(at fd_sockets 1) | $(at fd_sockets "$LAST") | $(range fd_sockets) | |"
  echo "| threads | $(at threads 1) | $(at threads "$LAST") | $(range threads) | identical: $(check "$THR_OK") |"
  echo "| VmRSS MiB | $(mib "$(at rss_kb 1)") | $(mib "$(at rss_kb "$LAST")") | $(mib "$(range rss_kb | cut -d' ' -f1)") – $(mib "$(range rss_kb | cut -d' ' -f3)") | within 10 %: $RSS_PCT % $(check "$RSS_OK") |"
  echo "| heap used after GC MiB | $(mib "$(at heap_used_after_gc_kb 1)") | $(mib "$(at heap_used_after_gc_kb "$LAST")") | $(mib "$(range heap_used_after_gc_kb | cut -d' ' -f1)") – $(mib "$(range heap_used_after_gc_kb | cut -d' ' -f3)") | |"
  echo "| metaspace used MiB | $(mib "$(at metaspace_used_kb 1)") | $(mib "$(at metaspace_used_kb "$LAST")") | | |"
  echo "| start → serving ms | $(at start_to_serving_ms 1) | $(at start_to_serving_ms "$LAST") | $(range start_to_serving_ms) | |"
  echo
  echo "Requests served: $SERVED_TOTAL (keep-alive $(sum ka_served), close $(sum close_served), h2c $(sum h2c_served);" \
       "h2c streams refused by a drain and sent again: $(sum h2c_sent_again)). **Failed: $FAILED_TOTAL** (keep-alive $(sum ka_failed)," \
       "close $(sum close_failed), h2c $(sum h2c_failed), idle connections closed or failed $IDLE_FAILED of $IDLE_HELD) — target 0: $(check "$([[ $FAILED_TOTAL == 0 ]] && echo 1 || echo 0)")"
  if [[ -n "$FAIL_ROWS" ]]; then
    echo
    echo "Handoffs with failed requests (causes as bench/loadgen.c counts them; longest stall = no request of that load"
    echo "completed on any connection; CPU waiting = share of the load's wall time in which a runnable task waited for a"
    echo "CPU, /proc/pressure/cpu; logs of both generations: $DETAIL/handoff-N-*.log):"
    echo
    echo "| handoff | failed | causes | longest stall ms | start → serving ms | serving → old exit ms | load average | CPU waiting % |"
    echo "|---:|---:|---|---|---:|---:|---:|---:|"
    printf '%s' "$FAIL_ROWS"
  fi
  if ((!THR_OK)); then
    echo
    echo "Threads by name, handoff 1 → $LAST (names with their number replaced by N):"
    echo '```'
    diff "$DETAIL/threads-1.txt" "$DETAIL/threads-$LAST.txt" || true
    echo '```'
  fi
  if ((!FDS_OK)); then
    echo
    echo "Fds by kind, handoff 1 → $LAST:"
    echo '```'
    diff "$DETAIL/fds-1.txt" "$DETAIL/fds-$LAST.txt" || true
    echo '```'
  fi
} | tee "$REPORT"
log "written $REPORT and $CSV"
if ((FAILED_TOTAL > 0 || !FDS_OK || !THR_OK || !RSS_OK)); then
  log "FAIL: failed requests $FAILED_TOTAL, fds $( ((FDS_OK)) && echo equal || echo differ), threads $( ((THR_OK)) && echo equal || echo differ), RSS $RSS_PCT %"
  exit 1
fi
