# Shared by the bench scripts: logging, the Java command line, a private work directory, the
# processes a script started (ended by pid, and only those), and waiting on their output.
# Source it after setting BENCH_NAME (and optionally BENCH_HEAP, default 256m).
#
# Every wait has a deadline; every process started goes into PIDS so that cleanup ends it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/sidecar/target/baton.jar"
OUT_DIR="$ROOT/bench/out"

log() { echo "[$BENCH_NAME] $*" >&2; }
die() { echo "[$BENCH_NAME] error: $*" >&2; exit 1; }

[[ -f "$JAR" ]] || die "no $JAR: build it first (mvn -B -o -DskipTests package)"

# need TOOL HINT: dies naming the tool and where it comes from
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (expected it: $2)"
}

JAVA=(java "-Xmx${BENCH_HEAP:-256m}")
JAVA_SPEC="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
if [[ "${JAVA_SPEC%%.*}" -ge 24 ]]; then
  # Netty 4.2 on JDK 24+ (design.md, measured pitfalls).
  JAVA+=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED)
fi

WORK="$(mktemp -d "/tmp/baton-$BENCH_NAME.XXXXXX")"
chmod 700 "$WORK" # a run directory under it must not be reachable by other users
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  if [[ -n "${KEEP_WORK:-}" ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_line FILE REGEX PID TIMEOUT_S -> prints the first matching line
wait_for_line() {
  local file="$1" re="$2" pid="$3" deadline=$((SECONDS + $4)) line
  while (( SECONDS < deadline )); do
    line="$(grep -m1 -E "$re" "$file" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then echo "$line"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$file".err "$file" >&2 2>/dev/null || true; die "pid $pid exited before \"$re\""; }
    sleep 0.05
  done
  die "no \"$re\" from pid $pid within $4 s"
}

# wait_exit PID TIMEOUT_S
wait_exit() {
  local pid="$1" deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || die "pid $pid still running after $2 s"
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
}

# start_test_upstream [--h2c]: starts `baton test-upstream` (HTTP/1.1, or h2c with --h2c) on a free
# loopback port; sets UPSTREAM_PID and UP_PORT.
start_test_upstream() {
  local line
  "${JAVA[@]}" -jar "$JAR" test-upstream "$@" --port 0 >"$WORK/upstream.out" 2>"$WORK/upstream.out.err" &
  UPSTREAM_PID=$!
  PIDS+=("$UPSTREAM_PID")
  line="$(wait_for_line "$WORK/upstream.out" '^(h2c )?upstream listening ' "$UPSTREAM_PID" 60)"
  UP_PORT="$(sed -E 's/^(h2c )?upstream listening [^ ]*:([0-9]+).*/\2/' <<<"$line")"
}

# start_baton: starts the next Baton generation on "$CFG" (its listener named web) and waits until
# it serves; sets GEN, BATON_PID, BATON_PORT and BATON_MS (start to serving line).
GEN=0
start_baton() {
  GEN=$((GEN + 1))
  local out="$WORK/baton-$GEN.out" t0 line
  t0=$(date +%s%N)
  "${JAVA[@]}" -jar "$JAR" run --config "$CFG" >"$out" 2>"$out.err" &
  BATON_PID=$!
  PIDS+=("$BATON_PID")
  line="$(wait_for_line "$out" '^baton serving ' "$BATON_PID" 60)"
  BATON_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  BATON_PORT="$(sed -E 's/.*listeners=([^ ]*,)?web=[^ ,]*:([0-9]+).*/\2/' <<<"$line")"
  log "baton generation $GEN pid $BATON_PID serving on 127.0.0.1:$BATON_PORT after $BATON_MS ms"
}

# hand_off_n_times: HANDOFFS handoffs, HANDOFF_INTERVAL seconds apart, each by starting the next
# generation and waiting for the old one to exit; sets HANDOFF_ROWS (a markdown row per handoff:
# number, new pid, start to serving ms, serving to old exit ms).
hand_off_n_times() {
  local i old_pid old_port t0 exit_ms
  HANDOFF_ROWS=""
  for i in $(seq 1 "$HANDOFFS"); do
    sleep "$HANDOFF_INTERVAL"
    old_pid="$BATON_PID"
    old_port="$BATON_PORT"
    start_baton
    [[ "$BATON_PORT" == "$old_port" ]] || die "generation $GEN listens on $BATON_PORT, not $old_port"
    t0=$(date +%s%N)
    wait_exit "$old_pid" 60
    exit_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    HANDOFF_ROWS+="| $i | $BATON_PID | $BATON_MS | $exit_ms |"$'\n'
  done
}
