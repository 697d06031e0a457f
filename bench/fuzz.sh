#!/usr/bin/env bash
# Issue 16, bad input: a coverage-guided fuzzing campaign (Jazzer, libFuzzer) against the decoders
# that read untrusted bytes, one @FuzzTest each:
#   control-channel  ControlChannel: frames on reconfig.sock, listen.sock, conn.sock   (handoff)
#   control-channel-paused  the same, the reader polling mid-stream (~20 inputs/s)    (handoff)
#   http1            the http listener's pipeline: h2c sniffer, HTTP/1.1 decoder, proxy (sidecar)
#   etcd-member      MemberParser: an etcd key and value                               (sidecar)
#   config           ConfigLoader.parse: the YAML config file                          (sidecar)
# In `mvn verify` the same tests replay their committed seeds (src/test/resources/.../<Test>Inputs/)
# in seconds; here they are fuzzed, through Jazzer's own driver so that the duration is ours (the
# JUnit runner takes it from @FuzzTest(maxDuration), a constant).
#
# Usage: bench/fuzz.sh [target|all] [duration]   e.g. bench/fuzz.sh http1 3m; bench/fuzz.sh all
#   duration: 10m by default; s, m or h. Each target stops by itself after it.
# Knobs (environment): FUZZ_HEAP=512m (a larger allocation than this is an OOM finding),
#   FUZZ_TIMEOUT=10 (seconds one input may take before it is a hang finding),
#   MERGE=1 (add the inputs that reach new edges to the committed seeds; MERGE=0 leaves them).
# Output: a summary line per target (executions, coverage, corpus, findings) on stdout; the full
# libFuzzer log, the generated corpus and any finding (crash-*, timeout-*, oom-*) under
# bench/out/fuzz/<target>/. Kills nothing it did not start; each run is bounded by its duration.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/out/fuzz"
TARGETS=(control-channel control-channel-paused http1 etcd-member config)

log() { echo "[fuzz] $*" >&2; }
die() { echo "[fuzz] error: $*" >&2; exit 1; }

# target -> module, test class, method, packages to instrument for coverage
module_of() { case "$1" in control-channel*) echo handoff ;; *) echo sidecar ;; esac; }
class_of() {
  case "$1" in
    control-channel*) echo io.baton.handoff.wire.ControlChannelFuzzTest ;;
    http1) echo io.baton.sidecar.http1.Http1RequestFuzzTest ;;
    etcd-member) echo io.baton.sidecar.discovery.MemberParserFuzzTest ;;
    config) echo io.baton.sidecar.config.ConfigLoaderFuzzTest ;;
  esac
}
method_of() {
  case "$1" in
    control-channel) echo everyFrameIsReadAsSentOrRefusedWithATypedError ;;
    control-channel-paused) echo aFrameCutByAReadTimeoutIsResumedWhereItStopped ;;
    http1) echo anyBytesGetHttpResponsesOrACloseNeverAnException ;;
    etcd-member) echo everyKeyIsAMemberOrARejectionWithAReason ;;
    config) echo anyTextIsAConfigOrAConfigExceptionNamingTheSource ;;
  esac
}
# Baton's code and the third-party parser under it: coverage of Netty's HTTP decoder, Jackson's
# and SnakeYAML's parsers, protobuf's is what guides the fuzzer into their corner cases.
instrumented() {
  case "$1" in
    control-channel*) echo 'io.baton.**:com.google.protobuf.**' ;;
    http1) echo 'io.baton.**:io.netty.handler.codec.**' ;;
    etcd-member) echo 'io.baton.**:com.fasterxml.jackson.core.**:com.fasterxml.jackson.databind.node.**' ;;
    config) echo 'io.baton.**:com.fasterxml.jackson.**:org.yaml.snakeyaml.**' ;;
  esac
}

seconds_of() {
  local d="$1"
  case "$d" in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo "${d%s}" ;;
    *[0-9]) echo "$d" ;;
    *) die "duration $d (expected e.g. 90s, 10m, 1h)" ;;
  esac
}

TARGET="${1:-all}"
DURATION="${2:-10m}"
SECONDS_EACH="$(seconds_of "$DURATION")"
[[ "$SECONDS_EACH" -gt 0 ]] || die "duration $DURATION (expected more than 0)"
if [[ "$TARGET" == all ]]; then
  selected=("${TARGETS[@]}")
else
  [[ -n "$(class_of "$TARGET")" ]] || die "target $TARGET (expected one of: ${TARGETS[*]} all)"
  selected=("$TARGET")
fi

# The test classpath of a module, built through the reactor from this worktree (never `mvn install`:
# ~/.m2 is shared). Offline first.
classpath() {
  local module="$1" file="$OUT/classpath-$1.txt"
  mkdir -p "$OUT"
  local args=(-q -B test-compile dependency:build-classpath -pl "$module" -am
    -Dmdep.outputFile="$file" -Dmdep.includeScope=test)
  (cd "$ROOT" && { mvn -o "${args[@]}" >"$OUT/build-$module.log" 2>&1 || mvn "${args[@]}" >>"$OUT/build-$module.log" 2>&1; }) \
    || die "building $module failed (see $OUT/build-$module.log)"
  echo "$ROOT/$module/target/test-classes:$ROOT/$module/target/classes:$(cat "$file")"
}

seeds_dir() {
  local class method
  class="$(class_of "$1")"
  method="$(method_of "$1")"
  echo "$ROOT/$(module_of "$1")/src/test/resources/${class//.//}Inputs/$method"
}

run_target() {
  local target="$1" module cp dir seeds jazzer
  module="$(module_of "$target")"
  cp="$(classpath "$module")"
  dir="$OUT/$target"
  seeds="$(seeds_dir "$target")"
  rm -rf "$dir/findings"
  mkdir -p "$dir/corpus" "$dir/findings"
  jazzer=(java "-Xmx${FUZZ_HEAP:-512m}" -cp "$cp" com.code_intelligence.jazzer.Jazzer
    --target_class="$(class_of "$target")" --target_method="$(method_of "$target")"
    --instrumentation_includes="$(instrumented "$target")")
  log "$target: fuzzing for ${SECONDS_EACH}s (log: $dir/fuzz.log)"
  local status=0
  (cd "$dir" && "${jazzer[@]}" --keep_going=10 -max_total_time="$SECONDS_EACH" -timeout="${FUZZ_TIMEOUT:-10}" \
    -artifact_prefix="$dir/findings/" -print_final_stats=1 "$dir/corpus" "$seeds") >"$dir/fuzz.log" 2>&1 || status=$?

  local done_line runs findings
  done_line="$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$dir/fuzz.log" | tail -1 || true)"
  runs="$(awk '/stat::number_of_executed_units/ {print $NF}' "$dir/fuzz.log" | tail -1)"
  findings="$(find "$dir/findings" -type f | wc -l)"
  if [[ -z "$done_line" ]]; then
    done_line="(no DONE line: libFuzzer stopped early, exit $status; see the log)"
  fi
  echo "$target: duration ${SECONDS_EACH}s, executions ${runs:-?}, findings $findings, exit $status | $done_line"
  if [[ "$findings" -gt 0 ]]; then
    find "$dir/findings" -type f -printf '  finding: %p\n'
    grep -a -m3 -E '== Java Exception|FuzzerSecurityIssue|Exception in' "$dir/fuzz.log" | sed 's/^/  /' || true
  fi

  if [[ "${MERGE:-1}" == 1 && "$findings" == 0 ]]; then
    # Keeps the committed seeds small: only inputs that reach an edge the seeds do not
    # (-use_counters=0: edges, not hit-count buckets, which would keep several times as many).
    local before after
    before="$(find "$seeds" -type f | wc -l)"
    (cd "$dir" && "${jazzer[@]}" -merge=1 -use_counters=0 "$seeds" "$dir/corpus") >"$dir/merge.log" 2>&1 \
      || log "$target: merging the corpus into the seeds failed (see $dir/merge.log); seeds unchanged"
    after="$(find "$seeds" -type f | wc -l)"
    log "$target: seeds $before -> $after ($seeds)"
  fi
}

log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(java -version 2>&1 | head -1)"
for t in "${selected[@]}"; do
  run_target "$t"
done
