#!/usr/bin/env bash
# Baton HTTP/2 bench: steady h2c throughput and p99 through Baton vs. directly against the h2c test
# upstream (h2load, alternating rounds, ratio per round), then failed streams during handoffs under
# an h2c load measured with `baton h2-load` (not h2load: it counts the streams it may not send after
# a GOAWAY as failed and does not reconnect, see design.md). 127.0.0.1 only; bounded; kills only the
# processes it started. Results: bench/RESULTS.md.
#
# Usage: bench/h2-bench.sh            (from anywhere; expects sidecar/target/baton.jar)
# Knobs (environment): DURATION=10 (s) ROUNDS=3 WARMUP=3 (s) THREADS=1 CONNS=16 STREAMS=8
#                      HANDOFFS=5 HANDOFF_INTERVAL=3 (s) CLUSTER=h2c (or http1)
set -euo pipefail

BENCH_NAME=h2-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-3}"
THREADS="${THREADS:-1}"
CONNS="${CONNS:-16}"
STREAMS="${STREAMS:-8}"
HANDOFFS="${HANDOFFS:-5}"
HANDOFF_INTERVAL="${HANDOFF_INTERVAL:-3}"
CLUSTER="${CLUSTER:-h2c}"

[[ "$CLUSTER" == h2c || "$CLUSTER" == http1 ]] || die "CLUSTER: \"$CLUSTER\" (expected h2c or http1)"
command -v h2load >/dev/null 2>&1 \
  || die "h2load not found (expected it: scripts/install-test-deps.sh installs Debian package nghttp2-client)"

# --- upstream: h2c (and gRPC) test upstream; an HTTP/1.1 one for CLUSTER=http1 -----------------
if [[ "$CLUSTER" == h2c ]]; then
  start_test_upstream --h2c
else
  start_test_upstream
fi
log "$CLUSTER upstream pid $UPSTREAM_PID on 127.0.0.1:$UP_PORT"

# --- Baton -----------------------------------------------------------------------------------
CFG="$WORK/baton.yaml"
cat >"$CFG" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
  servingHeader: false
drain:
  timeout: 20s
  http2GoawayDelay: 500ms
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
clusters:
  - name: app
    endpoints: ["127.0.0.1:$UP_PORT"]
    protocol: $CLUSTER
YAML

start_baton

# --- h2load ----------------------------------------------------------------------------------
# run_h2load NAME PORT -> $WORK/h2load-NAME.txt (summary) and $WORK/h2load-NAME.log (one line per
# request: start µs, status, duration µs; h2load prints no percentiles, the log gives the p99).
# --warm-up-time: each run's connections are warm before the measured time (and h2load 1.52 with
# -D and no warm-up sent its first requests and then nothing, here).
# With CLUSTER=http1 the upstream speaks HTTP/1.1 only and answers one request at a time per
# connection: direct runs are h2load --h1 with CONNS x STREAMS connections of one request each, the
# same number of requests in flight as through Baton.
DIRECT_SHAPE=(-c"$CONNS" -m"$STREAMS")
[[ "$CLUSTER" == http1 ]] && DIRECT_SHAPE=(--h1 -c"$((CONNS * STREAMS))" -m1)
run_h2load() {
  local name="$1" port="$2" shape=(-c"$CONNS" -m"$STREAMS")
  [[ "$name" == direct-* ]] && shape=("${DIRECT_SHAPE[@]}")
  log "h2load $name: -t$THREADS ${shape[*]} -D$DURATION --warm-up-time=$WARMUP"
  timeout $((DURATION + WARMUP + 60)) h2load -t"$THREADS" "${shape[@]}" -D"$DURATION" --warm-up-time="$WARMUP" \
    --log-file="$WORK/h2load-$name.log" "http://127.0.0.1:$port/load/bench" >"$WORK/h2load-$name.txt" 2>&1 \
    || die "h2load $name failed: $(tail -5 "$WORK/h2load-$name.txt")"
}
rps()    { awk '/^finished in/ { gsub(",", ""); printf "%.0f", $4 }' "$WORK/h2load-$1.txt"; }
done_n() { awk '/^requests:/ { print $6 }' "$WORK/h2load-$1.txt" | grep . || echo 0; }
failed() { awk '/^requests:/ { print $10 + $12 + $14 }' "$WORK/h2load-$1.txt" | grep . || echo 0; }
non2xx() { awk '/^status codes:/ { gsub(",", ""); print $5 + $7 + $9 }' "$WORK/h2load-$1.txt" | grep . || echo 0; }
p99()    { # ms, from the per-request log
  sort -n -k3,3 "$WORK/h2load-$1.log" | awk '{ v[NR] = $3 } END { if (NR == 0) print "n/a"; else {
    i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 } }'; }
ratio()  { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
over_rounds() { local f="$1" prefix="$2"; for r in $(seq 1 "$ROUNDS"); do "$f" "$prefix-$r"; echo; done | median; }

# Direct and through Baton alternate, round after round, so a slow spell of the shared machine
# weighs on both; the report gives medians and the ratio of each round.
for r in $(seq 1 "$ROUNDS"); do
  run_h2load "direct-$r" "$UP_PORT"
  run_h2load "baton-$r" "$BATON_PORT"
done

# --- handoffs under an h2c load that honours GOAWAY (baton h2-load) --------------------------
# The load runs until the handoffs are done (SIGTERM: it finishes its streams and prints the
# counts); how long they take depends on the machine. -d bounds it if this script dies.
log "handoffs: $HANDOFFS under baton h2-load -c$CONNS -s$STREAMS"
LOAD_T0=$SECONDS
"${JAVA[@]}" -jar "$JAR" h2-load --port "$BATON_PORT" -c "$CONNS" -s "$STREAMS" -d "$(( HANDOFFS * 90 + 60 ))s" \
  >"$WORK/h2-load.out" 2>"$WORK/h2-load.out.err" &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
hand_off_n_times
sleep "$HANDOFF_INTERVAL"
kill -TERM "$LOAD_PID"
LOAD_STATUS=0
wait "$LOAD_PID" || LOAD_STATUS=$?
LOAD_SECS=$(( SECONDS - LOAD_T0 ))
LOAD_LINE="$(grep -m1 '^h2-load: ' "$WORK/h2-load.out" || true)"
[[ -n "$LOAD_LINE" ]] || die "baton h2-load printed no result (exit $LOAD_STATUS): $(tail -5 "$WORK/h2-load.out.err")"
field() { sed -E "s/.* $1=([0-9]+).*/\1/" <<<"$LOAD_LINE"; }
HO_COMPLETED="$(field completed)"
HO_FAILED="$(field failed)"
HO_REFUSED="$(field refused)"

# --- report ----------------------------------------------------------------------------------
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/h2-bench-$(date +%Y%m%d-%H%M%S).md"
{
  echo "## Baton HTTP/2 bench $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, java $JAVA_SPEC," \
       "$(h2load --version 2>/dev/null | head -1), h2load -t$THREADS -c$CONNS -m$STREAMS -D$DURATION" \
       "--warm-up-time=$WARMUP x $ROUNDS rounds, 127.0.0.1, client h2c prior knowledge, cluster $CLUSTER," \
       "upstream = $( [[ $CLUSTER == h2c ]] && echo 'TestH2Upstream' || echo 'TestUpstream') /load," \
       "direct = h2load ${DIRECT_SHAPE[*]}"
  echo
  echo "| | direct req/s | Baton req/s | Baton/direct (each round) | direct p99 ms | Baton p99 ms | Baton failed + non-2xx |"
  echo "|---|---:|---:|---|---:|---:|---:|"
  echo "| h2c client, cluster $CLUSTER | $(over_rounds rps direct) | $(over_rounds rps baton) |" \
       "**$(for r in $(seq 1 "$ROUNDS"); do ratio "$(rps "baton-$r")" "$(rps "direct-$r")"; echo; done | median)**" \
       "($(for r in $(seq 1 "$ROUNDS"); do printf '%s ' "$(ratio "$(rps "baton-$r")" "$(rps "direct-$r")")"; done | sed 's/ $//')) |" \
       "$(over_rounds p99 direct) | $(over_rounds p99 baton) |" \
       "$(for r in $(seq 1 "$ROUNDS"); do echo $(( $(failed "baton-$r") + $(non2xx "baton-$r") )); done | awk '{ s += $1 } END { print s + 0 }') |"
  echo
  echo "Handoffs under baton h2-load -c$CONNS -s$STREAMS for ${LOAD_SECS}s: $HANDOFFS handoffs, $HANDOFF_INTERVAL s apart"
  echo
  echo "| handoff | new pid | start → serving ms | old exit ms |"
  echo "|---:|---:|---:|---:|"
  printf '%s' "$HANDOFF_ROWS"
  echo
  echo '```'
  cat "$WORK/h2-load.out"
  echo '```'
  echo
  echo "**Failed streams during handoffs: $HO_FAILED** of $HO_COMPLETED completed" \
       "($HO_REFUSED refused — never processed, sent again, counted apart)"
} | tee "$REPORT"
log "written $REPORT"
STATUS=0
for r in $(for i in $(seq 1 "$ROUNDS"); do echo "direct-$i baton-$i"; done); do
  if [[ "$(done_n "$r")" == 0 ]]; then
    log "FAIL: h2load $r completed no request at all"
    STATUS=1
  fi
done
if [[ "$HO_COMPLETED" == 0 ]]; then
  log "FAIL: no stream completed during the handoffs"
  STATUS=1
fi
if [[ "$HO_FAILED" != 0 ]]; then
  log "FAIL: $HO_FAILED failed stream(s) during the handoffs"
  STATUS=1
fi
exit "$STATUS"
