#!/usr/bin/env bash
# Baton bench: throughput and p99 through Baton vs. directly against the upstream (keep-alive and
# Connection: close), then failed requests during handoffs under load. 127.0.0.1 only; bounded;
# kills only the processes it started. See bench/RESULTS.md.
#
# Usage: bench/run-bench.sh            (from anywhere; expects sidecar/target/baton.jar)
# Knobs (environment): DURATION=10s ROUNDS=3 WARMUP=5s THREADS=2 CONNS=64 HANDOFFS=3 HANDOFF_INTERVAL=4
set -euo pipefail

BENCH_NAME=bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-5s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
HANDOFFS="${HANDOFFS:-3}"
HANDOFF_INTERVAL="${HANDOFF_INTERVAL:-4}"

ensure_pkg wrk wrk

# --- upstream --------------------------------------------------------------------------------
start_test_upstream
log "upstream pid $UPSTREAM_PID on 127.0.0.1:$UP_PORT"

# --- Baton -----------------------------------------------------------------------------------
CFG="$WORK/baton.yaml"
cat >"$CFG" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
  servingHeader: false
drain:
  timeout: 10s
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
clusters:
  - name: app
    endpoints: ["127.0.0.1:$UP_PORT"]
YAML

start_baton

# --- wrk helpers -----------------------------------------------------------------------------

# run_wrk NAME PORT [extra wrk args...] -> $WORK/wrk-NAME.txt, and $WORK/cpu-NAME.txt holding the
# CPU ticks the upstream and Baton used during the run
run_wrk() {
  local name="$1" port="$2"; shift 2
  log "wrk $name: -t$THREADS -c$CONNS -d$DURATION $*"
  local u0 b0
  u0=$(cpu_ticks "$UPSTREAM_PID"); b0=$(cpu_ticks "$BATON_PID")
  timeout 120 wrk --latency -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" "http://127.0.0.1:$port/load/bench" \
    >"$WORK/wrk-$name.txt" 2>&1 || die "wrk $name failed: $(cat "$WORK/wrk-$name.txt")"
  echo "$(( $(cpu_ticks "$UPSTREAM_PID") - u0 )) $(( $(cpu_ticks "$BATON_PID") - b0 ))" >"$WORK/cpu-$name.txt"
}
# warm_up PORT [extra wrk args...]: both JVMs compile their hot paths before anything is measured
warm_up() {
  local port="$1"; shift
  timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$@" "http://127.0.0.1:$port/load/warmup" >/dev/null 2>&1 \
    || die "wrk warm-up on port $port failed"
}
rps()  { awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-$1.txt"; }
p99()  { # in ms
  awk '$1 == "99%" { v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         if (u == "us") v/=1000; else if (u == "s") v*=1000; else if (u == "m") v*=60000;
         printf "%.2f", v; found=1 } END { if (!found) printf "n/a" }' "$WORK/wrk-$1.txt"; }
total() { awk '/ requests in / {print $1}' "$WORK/wrk-$1.txt" | grep . || echo 0; }
non2xx() { awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$WORK/wrk-$1.txt" | grep . || echo 0; }
sockerr() { # connect+read+write+timeout
  awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$WORK/wrk-$1.txt" | grep . || echo 0; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# cpu_us NAME FIELD: CPU microseconds per request of the upstream (FIELD 1) or Baton (FIELD 2)
cpu_us() { awk -v n="$(total "$1")" -v f="$2" -v hz="$CLK_TCK" '{ if (n > 0) printf "%.1f", $f * 1e6 / hz / n; else print "n/a" }' "$WORK/cpu-$1.txt"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# over_rounds FUNC NAME-PREFIX [args]: the median of FUNC over the rounds NAME-PREFIX-1..ROUNDS
over_rounds() { local f="$1" prefix="$2"; shift 2; for r in $(seq 1 "$ROUNDS"); do "$f" "$prefix-$r" "$@"; echo; done | median; }
round_ratios() { for r in $(seq 1 "$ROUNDS"); do printf '%s ' "$(ratio "$(rps "baton-$1-$r")" "$(rps "direct-$1-$r")")"; done; }
errors() { for r in $(seq 1 "$ROUNDS"); do echo $(( $(non2xx "baton-$1-$r") + $(sockerr "baton-$1-$r") )); done | awk '{ s += $1 } END { print s + 0 }'; }

# Direct and through Baton alternate, round after round, so that a slow spell of the shared machine
# weighs on both; the report gives medians and the ratio of each round.
MODES=(ka close)
for m in "${MODES[@]}"; do
  args=()
  [[ $m == close ]] && args=(-H 'Connection: close')
  warm_up "$UP_PORT" "${args[@]}"
  warm_up "$BATON_PORT" "${args[@]}"
  for r in $(seq 1 "$ROUNDS"); do
    run_wrk "direct-$m-$r" "$UP_PORT" "${args[@]}"
    run_wrk "baton-$m-$r" "$BATON_PORT" "${args[@]}"
  done
done

# --- handoffs under keep-alive load ----------------------------------------------------------
HO_SECS=$(( (HANDOFFS + 1) * HANDOFF_INTERVAL ))
log "handoffs: $HANDOFFS under wrk keep-alive load for ${HO_SECS}s"
timeout $((HO_SECS + 120)) wrk --latency -t"$THREADS" -c"$CONNS" -d"${HO_SECS}s" "http://127.0.0.1:$BATON_PORT/load/handoff" \
  >"$WORK/wrk-handoff.txt" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
hand_off_n_times
wait "$WRK_PID" || die "wrk (handoffs) failed: $(cat "$WORK/wrk-handoff.txt")"

# --- report ----------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/bench-$(date +%Y%m%d-%H%M%S).md"
HO_FAILED=$(( $(non2xx handoff) + $(sockerr handoff) ))
{
  echo "## Baton bench $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, java $JAVA_SPEC," \
       "wrk -t$THREADS -c$CONNS -d$DURATION x $ROUNDS rounds after a $WARMUP warm-up, 127.0.0.1, upstream = TestUpstream /load"
  echo
  echo "Medians over the rounds. CPU µs/req: CPU time (user + system) of the process per request answered."
  echo
  echo "| mode | direct req/s | Baton req/s | Baton/direct (each round) | direct p99 ms | Baton p99 ms |" \
       "upstream CPU µs/req direct | upstream CPU µs/req via Baton | Baton CPU µs/req | Baton errors |"
  echo "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"
  for m in "${MODES[@]}"; do
    label=$([[ $m == ka ]] && echo "keep-alive" || echo "Connection: close")
    echo "| $label | $(over_rounds rps "direct-$m") | $(over_rounds rps "baton-$m") |" \
         "**$(for r in $(seq 1 "$ROUNDS"); do ratio "$(rps "baton-$m-$r")" "$(rps "direct-$m-$r")"; echo; done | median)**" \
         "($(round_ratios "$m" | sed 's/ $//')) |" \
         "$(over_rounds p99 "direct-$m") | $(over_rounds p99 "baton-$m") |" \
         "$(over_rounds cpu_us "direct-$m" 1) | $(over_rounds cpu_us "baton-$m" 1) | $(over_rounds cpu_us "baton-$m" 2) |" \
         "$(errors "$m") |"
  done
  echo
  echo "Handoffs under keep-alive load: $HANDOFFS handoffs, ${HO_SECS}s of wrk, $(total handoff) requests," \
       "$(rps handoff) req/s, p99 $(p99 handoff) ms"
  echo
  echo "| handoff | new pid | start → serving ms | old exit ms |"
  echo "|---:|---:|---:|---:|"
  printf '%s' "$HANDOFF_ROWS"
  echo
  [[ "$(total handoff)" != 0 ]] || echo "**No request completed during the handoff run: the result is not valid.**"
  echo "**Failed requests during handoffs: $HO_FAILED** (non-2xx $(non2xx handoff), socket errors $(sockerr handoff):" \
       "$(grep 'Socket errors' "$WORK/wrk-handoff.txt" | sed 's/^ *//' || echo none))"
} | tee "$REPORT"
log "written $REPORT"
STATUS=0
for r in $(for m in "${MODES[@]}"; do for i in $(seq 1 "$ROUNDS"); do echo "direct-$m-$i baton-$m-$i"; done; done) handoff; do
  if [[ "$(total $r)" == 0 ]]; then
    log "FAIL: wrk $r completed no request at all (a hung proxy shows up like this, not as errors)"
    STATUS=1
  fi
done
if [[ "$HO_FAILED" != 0 ]]; then
  log "FAIL: $HO_FAILED failed request(s) during the handoffs"
  STATUS=1
fi
exit "$STATUS"
