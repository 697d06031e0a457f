#!/usr/bin/env bash
# Baton migration bench: how long moving N idle keep-alive connections to a new generation takes.
# 127.0.0.1 only; bounded; kills only the processes it started. See bench/RESULTS.md.
#
# Usage: bench/migration-bench.sh        (expects sidecar/target/baton.jar; JDK 17+ for the client)
# Knobs (environment): CONNECTIONS=10000 ROUNDS=3
set -euo pipefail

BENCH_NAME=migration-bench
BENCH_HEAP=512m
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
CONNECTIONS="${CONNECTIONS:-10000}"
ROUNDS="${ROUNDS:-3}"

command -v curl >/dev/null 2>&1 || die "curl is needed to read /metrics"
(( $(ulimit -n) > CONNECTIONS + 500 )) || ulimit -n $((CONNECTIONS + 1000)) 2>/dev/null \
  || die "open files limit $(ulimit -n) is below CONNECTIONS=$CONNECTIONS (raise it with ulimit -n)"

# Extra JVM options for the Baton processes only, e.g. a JFR recording: BATON_JAVA_OPTS="-XX:..."
read -r -a EXTRA <<<"${BATON_JAVA_OPTS:-}"

metric() { # ADMIN SERIES -> value or empty
  curl -fsS "http://$1/metrics" | awk -v s="$2" 'index($0, s " ") == 1 { print $2 }'
}

start_test_upstream

cat >"$WORK/baton.yaml" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
  servingHeader: true
drain:
  timeout: 60s
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
clusters:
  - name: app
    endpoints: ["127.0.0.1:$UP_PORT"]
YAML

GEN=0
start_baton() { # sets BATON_PID BATON_PORT ADMIN
  GEN=$((GEN + 1))
  local out="$WORK/baton-$GEN.out" line
  "${JAVA[@]}" "${EXTRA[@]}" -jar "$JAR" run --config "$WORK/baton.yaml" >"$out" 2>"$out.err" &
  BATON_PID=$!
  PIDS+=("$BATON_PID")
  line="$(wait_for_line "$out" '^baton serving ' "$BATON_PID" 60)"
  BATON_PORT="$(sed -E 's/.*listeners=([^ ]*,)?web=[^ ,]*:([0-9]+).*/\2/' <<<"$line")"
  ADMIN="$(sed -E 's/.* admin=([^ ]+) .*/\1/' <<<"$line")"
}

ROWS=""
PREV_MIGRATED=0
start_baton
for round in $(seq 1 "$ROUNDS"); do
  log "round $round: $CONNECTIONS idle connections to generation $GEN"
  coproc CLIENT { java "$ROOT/bench/IdleClients.java" 127.0.0.1 "$BATON_PORT" "$CONNECTIONS" 2>&1; }
  PIDS+=("$CLIENT_PID")
  read -r -t 120 opened <&"${CLIENT[0]}" || die "the client did not open its connections"
  [[ "$opened" == "open $CONNECTIONS" ]] || die "client: $opened"
  deadline=$((SECONDS + 60))
  until [[ "$(metric "$ADMIN" 'baton_connections_active{listener="web"}')" == "$CONNECTIONS.0" ]]; do
    (( SECONDS < deadline )) || die "generation $GEN never had $CONNECTIONS connections open"
    sleep 0.1
  done
  OLD_PID="$BATON_PID"
  OLD_ERR="$WORK/baton-$GEN.out.err"
  t0=$(date +%s%N)
  start_baton
  t_serving=$(date +%s%N)
  wait_exit "$OLD_PID" 120
  t_exit=$(date +%s%N)
  MIGRATED="$(metric "$ADMIN" 'baton_connections_migrated_total{listener="web",protocol="http1"}')"
  MIGRATION_S="$(metric "$ADMIN" 'baton_migration_seconds')"
  DRAIN_MS="$(grep -oE 'drain finished in [0-9]+ ms' "$OLD_ERR" | grep -oE '[0-9]+' | tail -1)"
  echo go >&"${CLIENT[1]}"
  read -r -t 180 summary <&"${CLIENT[0]}" || die "the client did not report"
  wait "$CLIENT_PID" 2>/dev/null || true
  log "round $round: $summary"
  [[ "$summary" == "answered $CONNECTIONS by_generation $GEN=$CONNECTIONS closed 0 failed 0" ]] \
    || die "round $round: expected every connection answered by generation $GEN, none closed: $summary"
  # The counter continues across generations: this round moved what it grew by.
  MOVED=$(awk -v now="$MIGRATED" -v before="$PREV_MIGRATED" 'BEGIN { printf "%d", now - before }')
  PREV_MIGRATED="$MIGRATED"
  RATE="$(awk -v n="$MOVED" -v s="$MIGRATION_S" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }')"
  ROWS+="| $round | $((GEN - 1)) → $GEN | $MOVED | $(awk -v s="$MIGRATION_S" 'BEGIN { printf "%.3f", s }') | $RATE |"
  ROWS+=" $DRAIN_MS | $(( (t_serving - t0) / 1000000 )) | $(( (t_exit - t_serving) / 1000000 )) | $summary |"$'\n'
done

mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/migration-$(date +%Y%m%d-%H%M%S).md"
{
  echo "## Baton migration bench $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, java $JAVA_SPEC," \
       "$CONNECTIONS idle keep-alive connections per round, 127.0.0.1"
  echo
  echo "migration s: first to last connection taken over, measured by the new process (baton_migration_seconds)."
  echo "old drain ms: the old process's drain, from Ready to its last connection gone (its log)."
  echo
  echo "| round | generations | moved | migration s | moved/s | old drain ms | start → serving ms | serving → old exit ms | then, one request on each |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---|"
  printf '%s' "$ROWS"
} | tee "$REPORT"
log "written $REPORT"
