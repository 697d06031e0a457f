#!/usr/bin/env bash
# Issue 14, footprint: the memory of one Baton generation, as README "Running it" starts it (JVM
# defaults) plus $BATON_JAVA_OPTS, in front of nginx on 127.0.0.1:
#   - idle after a cold start;
#   - under each load shape (HTTP/1.1 keep-alive, `Connection: close`, h2c) for LOAD_SECS: peak and end;
#   - holding IDLE_CONNS idle keep-alive connections (opened and unused, then after one request each);
#   - during a handoff under keep-alive load: old + new generation together, peak, as a ratio to one.
# Each phase runs on a fresh generation (a handoff before it), so that no phase inherits another's heap.
# Figures: VmRSS and VmHWM (/proc/PID/status; VmHWM is reset with clear_refs before each phase, so it
# is the phase's peak), Pss (/proc/PID/smaps_rollup: shared pages, e.g. the JDK's libraries and CDS
# archive, counted once across processes), threads; then the JVM's view (jcmd GC.heap_info: heap used /
# committed, metaspace), read after the samples since the attach itself costs memory. NMT=1 adds
# -XX:NativeMemoryTracking=summary and reports where the committed memory is (heap, class, threads,
# code, GC, other = Netty's direct buffers...); it costs some memory itself, so its RSS is not the
# default's.
#
# Usage: bench/footprint-bench.sh      (expects sidecar/target/baton.jar; ~3 min with the defaults)
# Knobs: LOAD_SECS=20 IDLE_SETTLE=5 IDLE_CONNS=10000 CONNS=64 H2_CONNS=16 H2_STREAMS=4 HANDOFF_AT=8
#        SHAPES="ka close h2c" NMT=0 BATON_JAVA_OPTS="..."
# Report: stdout and bench/out/footprint-STAMP.md. 127.0.0.1 only; ends only the pids it started.
set -euo pipefail

BENCH_NAME=footprint-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
LOAD_SECS="${LOAD_SECS:-20}"
IDLE_SETTLE="${IDLE_SETTLE:-5}"
IDLE_CONNS="${IDLE_CONNS:-10000}"
CONNS="${CONNS:-64}"
H2_CONNS="${H2_CONNS:-16}"
H2_STREAMS="${H2_STREAMS:-4}"
HANDOFF_AT="${HANDOFF_AT:-8}"
SHAPES="${SHAPES:-ka close h2c}"
NMT="${NMT:-0}"
for k in LOAD_SECS IDLE_SETTLE IDLE_CONNS CONNS H2_CONNS H2_STREAMS HANDOFF_AT NMT; do
  [[ "${!k}" =~ ^[0-9]+$ ]] || die "$k: \"${!k}\" (expected a whole number)"
done
for s in $SHAPES; do [[ "$s" == ka || "$s" == close || "$s" == h2c ]] || die "SHAPES: \"$s\" (expected ka, close, h2c)"; done
((HANDOFF_AT < LOAD_SECS)) || die "HANDOFF_AT=$HANDOFF_AT must be below LOAD_SECS=$LOAD_SECS"
need jcmd "the JDK's jcmd, next to java (Debian openjdk-17-jdk-headless)"
ensure_pkg curl curl

((NMT == 0)) || BATON_JAVA_OPTS="${BATON_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary"
baton_jvm_as_readme
(($(ulimit -Hn) > IDLE_CONNS + 500)) || die "the hard open-files limit $(ulimit -Hn) is too low for IDLE_CONNS=$IDLE_CONNS"
build_loadgen
LOAD_BEFORE="$(machine_load "before")"
start_nginx
CFG="$WORK/baton.yaml"
write_nginx_baton_config "$CFG"

# mem PID: sets M_RSS M_HWM M_PSS (kB) and M_THR from /proc, without forking (0 once it is gone)
mem() {
  local k v _
  M_RSS=0 M_HWM=0 M_PSS=0 M_THR=0
  { while read -r k v _; do
      case "$k" in VmRSS:) M_RSS=$v ;; VmHWM:) M_HWM=$v ;; Threads:) M_THR=$v ;; esac
    done <"/proc/$1/status"; } 2>/dev/null || true
  { while read -r k v _; do
      if [[ "$k" == Pss: ]]; then M_PSS=$v; break; fi
    done <"/proc/$1/smaps_rollup"; } 2>/dev/null || true
}
# sampler OUT INTERVAL_S PID...: a line "ms rss pss [rss pss]..." per interval (kB), until ended by pid
# or until none of the PIDs lives
sampler() {
  local out="$1" iv="$2" t0 line p alive
  shift 2
  t0="$(now_us)"
  while :; do
    line="$((($(now_us) - t0) / 1000))"
    alive=0
    for p in "$@"; do
      mem "$p"
      line+=" $M_RSS $M_PSS"
      ((M_RSS == 0)) || alive=1
    done
    echo "$line" >>"$out"
    ((alive)) || return 0
    sleep "$iv"
  done
}
start_sampler() { # OUT INTERVAL PID...: sets SAMPLER_PID
  : >"$1"
  sampler "$@" &
  SAMPLER_PID=$!
  PIDS+=("$SAMPLER_PID")
}
stop_sampler() {
  kill -TERM "$SAMPLER_PID" 2>/dev/null || true
  wait_exit "$SAMPLER_PID" 10
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# column_max FILE COLUMN -> kB
column_max() { awk -v c="$2" 'BEGIN { m = 0 } $c > m { m = $c } END { print m }' "$1"; }
# jvm_figures PID: "heap used / committed MiB | metaspace used MiB" from jcmd GC.heap_info (JDK 17
# prints "total NK, used NK" and a Metaspace line; JDK 25 "total reserved NK, committed NK, used NK")
jvm_figures() {
  timeout 30 jcmd "$1" GC.heap_info 2>/dev/null | awk '
    /Metaspace/ { for (i = 1; i <= NF; i++) if ($i == "used") mu = $(i + 1) + 0 }
    / used [0-9]+K/ && !/Metaspace|class space/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "used") u += $(i + 1) + 0
        if ($i == "committed" || ($i == "total" && $(i + 1) != "reserved")) c += $(i + 1) + 0 } }
    END { if (c == 0) { print "n/a | n/a"; exit }
          m = "n/a"; if (mu > 0) m = sprintf("%.1f", mu / 1024)
          printf "%.1f / %.1f | %s", u / 1024, c / 1024, m }' || echo "n/a | n/a"
}
# nmt PID: committed MiB per NMT category (only with NMT=1)
nmt() {
  ((NMT)) || return 0
  timeout 30 jcmd "$1" VM.native_memory summary 2>/dev/null | awk '
    /^-? *[A-Z][A-Za-z ]+ \(reserved=/ { name = $0; sub(/^- */, "", name); sub(/ \(reserved=.*/, "", name)
      if (match($0, /committed=[0-9]+KB/)) { v = substr($0, RSTART + 10, RLENGTH - 12) / 1024; if (v >= 0.5) printf "%s %.0f, ", name, v } }
    /^Total: / { if (match($0, /committed=[0-9]+KB/)) total = substr($0, RSTART + 10, RLENGTH - 12) / 1024 }
    END { if (total != "") printf "total %.0f", total }'
}
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || log "could not reset VmHWM of pid $1 (clear_refs): peak is since start"; }
# next_generation: a fresh generation for the next phase (handoff; the old one exits)
next_generation() {
  local old="$BATON_PID"
  start_baton
  wait_exit "$old" 90
  sleep 2
}

ROWS=""
row() { ROWS+="$*"$'\n'; }

# --- idle after start ----------------------------------------------------------------------------
start_baton
sleep "$IDLE_SETTLE"
mem "$BATON_PID"
row "| idle, ${IDLE_SETTLE} s after a cold start | $(mib "$M_RSS") | $(mib "$M_HWM") (start-up) | $(mib "$M_PSS") | $M_THR | $(jvm_figures "$BATON_PID") | | $(nmt "$BATON_PID") |"
IDLE_RSS="$M_RSS"

# --- under load ----------------------------------------------------------------------------------
declare -A PEAK
for s in $SHAPES; do
  next_generation
  reset_hwm "$BATON_PID"
  port="$BATON_PORT"; shape=(-c "$CONNS")
  if [[ "$s" == h2c ]]; then port="$BATON_H2_PORT"; shape=(-c "$H2_CONNS" -s "$H2_STREAMS"); fi
  start_sampler "$WORK/mem-$s" 0.2 "$BATON_PID"
  "$LOADGEN" -p "$port" -m "$s" "${shape[@]}" -d "$LOAD_SECS" >"$WORK/load-$s.res" 2>"$WORK/load-$s.err" &
  lpid=$!
  PIDS+=("$lpid")
  sleep "$((LOAD_SECS - 1))"
  mem "$BATON_PID" # the end: still under load
  end_rss="$M_RSS" end_pss="$M_PSS" end_thr="$M_THR"
  wait_exit "$lpid" 60
  stop_sampler
  mem "$BATON_PID"
  PEAK[$s]="$M_HWM"
  served="$(sed -nE 's/.* served=([0-9]+).*/\1/p' "$WORK/load-$s.res")"
  failed="$(sed -nE 's/.* failed=([0-9]+).*/\1/p' "$WORK/load-$s.res")"
  log "$s: $(grep '^loadgen [a-z0-9]*:' "$WORK/load-$s.err" | tail -1)"
  label=$([[ $s == ka ]] && echo "keep-alive, $CONNS connections" || { [[ $s == close ]] && echo "Connection: close, $CONNS clients" || echo "h2c, $H2_CONNS x $H2_STREAMS streams"; })
  row "| $label, ${LOAD_SECS} s: end | $(mib "$end_rss") | **$(mib "$M_HWM")** | $(mib "$end_pss") (peak $(mib "$(column_max "$WORK/mem-$s" 3)")) | $end_thr | $(jvm_figures "$BATON_PID") | $served ($failed failed) | $(nmt "$BATON_PID") |"
done

# --- idle connections ----------------------------------------------------------------------------
next_generation
reset_hwm "$BATON_PID"
log "opening $IDLE_CONNS idle connections"
"$LOADGEN" -p "$BATON_PORT" -m idle -c "$IDLE_CONNS" -P 5000 -d 300 >"$WORK/idle.out" 2>"$WORK/idle.err" &
ipid=$!
PIDS+=("$ipid")
wait_for_line "$WORK/idle.out" '^open ' "$ipid" 120 >/dev/null
opened="$(sed -nE 's/^open ([0-9]+)/\1/p' "$WORK/idle.out")"
sleep 3
mem "$BATON_PID"
row "| $opened idle connections, opened, never used | $(mib "$M_RSS") | $(mib "$M_HWM") | $(mib "$M_PSS") | $M_THR | | | |"
wait_for_line "$WORK/idle.out" '^held ' "$ipid" 120 >/dev/null
held="$(sed -nE 's/^held ([0-9]+)/\1/p' "$WORK/idle.out")"
sleep 3
mem "$BATON_PID"
IDLE10K_RSS="$M_RSS"
row "| $held idle keep-alive connections, after one request each | $(mib "$M_RSS") | **$(mib "$M_HWM")** | $(mib "$M_PSS") | $M_THR | $(jvm_figures "$BATON_PID") | $held | $(nmt "$BATON_PID") |"
kill -TERM "$ipid"
wait_exit "$ipid" 60
log "idle connections: $(grep '^loadgen [a-z0-9]*:' "$WORK/idle.err" | tail -1)"

# --- two generations during a handoff under keep-alive load -------------------------------------
next_generation
log "handoff under keep-alive load at ${HANDOFF_AT} s"
"$LOADGEN" -p "$BATON_PORT" -m ka -c "$CONNS" -d "$LOAD_SECS" >"$WORK/load-ho.res" 2>"$WORK/load-ho.err" &
lpid=$!
PIDS+=("$lpid")
sleep "$HANDOFF_AT"
OLD_PID="$BATON_PID"
launch_baton
start_sampler "$WORK/mem-ho" 0.05 "$OLD_PID" "$BATON_PID"
await_baton
wait_exit "$OLD_PID" 90
sleep 0.5
stop_sampler
wait_exit "$lpid" 60
log "handoff run: $(grep '^loadgen [a-z0-9]*:' "$WORK/load-ho.err" | tail -1)"
# peaks over the samples in which both processes were alive
read -r BOTH_RSS BOTH_PSS OLD_AT NEW_PEAK N_BOTH <<<"$(awk '
  NR == 1 { old0 = $2 }
  $2 > 0 && $4 > 0 { n++; r = $2 + $4; p = $3 + $5; if (r > mr) mr = r; if (p > mp) mp = p }
  $4 > nm { nm = $4 }
  END { print mr + 0, mp + 0, old0 + 0, nm + 0, n + 0 }' "$WORK/mem-ho")"
ONE="${PEAK[ka]:-$OLD_AT}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
LOAD_AFTER="$(machine_load "after")"

# --- report --------------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/footprint-$(date +%Y%m%d-%H%M%S).md"
check() { awk -v v="$1" -v lim="$2" 'BEGIN { printf "%s %s", v, (v <= lim) ? "met" : "**not met**" }'; }
{
  echo "## Footprint of one generation (issue 14) $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Command: \`LOAD_SECS=$LOAD_SECS IDLE_SETTLE=$IDLE_SETTLE IDLE_CONNS=$IDLE_CONNS CONNS=$CONNS H2_CONNS=$H2_CONNS H2_STREAMS=$H2_STREAMS" \
       "HANDOFF_AT=$HANDOFF_AT SHAPES=\"$SHAPES\" NMT=$NMT BATON_JAVA_OPTS=\"${BATON_JAVA_OPTS:-}\" BATON_CONFIG_EXTRA=\"${BATON_CONFIG_EXTRA:-}\" bench/footprint-bench.sh\`"
  echo
  machine_header
  echo "$LOAD_BEFORE"
  echo "$LOAD_AFTER"
  echo
  echo "MiB. Peak = VmHWM since the phase began (reset with clear_refs); end = sampled 1 s before the load ended."
  echo "Each phase on a fresh generation. Heap and metaspace: jcmd GC.heap_info at the end of the phase."
  echo
  echo "| phase | VmRSS | peak VmRSS | Pss | threads | heap used / committed | metaspace used | requests | NMT committed MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  printf '%s' "$ROWS"
  echo
  echo "Handoff under keep-alive load (launch at ${HANDOFF_AT} s, sampled every 50 ms; $N_BOTH samples with both alive):" \
       "old + new peak VmRSS **$(mib "$BOTH_RSS")** MiB, Pss $(mib "$BOTH_PSS") MiB; the old one at launch $(mib "$OLD_AT") MiB," \
       "the new one's peak $(mib "$NEW_PEAK") MiB. Ratio to one generation's keep-alive peak ($(mib "$ONE") MiB, the phase above):" \
       "**$(ratio "$BOTH_RSS" "$ONE")** (Pss: $(ratio "$BOTH_PSS" "$ONE")); to the old one at launch: $(ratio "$BOTH_RSS" "$OLD_AT")."
  echo
  echo "Goals of issue 14: idle ≤ 96 MiB: $(check "$(mib "$IDLE_RSS")" 96);" \
       "$(for s in $SHAPES; do printf '%s ≤ 128 MiB: %s; ' "$s" "$(check "$(mib "${PEAK[$s]}")" 128)"; done)" \
       "$IDLE_CONNS idle connections ≤ 160 MiB: $(check "$(mib "$IDLE10K_RSS")" 160);" \
       "two generations ≤ 1.6x one: $(check "$(ratio "$BOTH_RSS" "$ONE")" 1.6)"
} | tee "$REPORT"
log "written $REPORT"
