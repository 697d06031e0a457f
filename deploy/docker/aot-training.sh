#!/bin/bash
# The training run of Baton's AOT cache (JDK 25, JEP 514/515), run once at image build time:
#   aot-training.sh OUTPUT
# A cache records the classes a JVM loaded and linked (and method profiles) during one run, and
# helps a later run only as far as that run did the same things. A Baton generation's life is a
# takeover, serving, a handoff and a drain, so the training starts three generations and records
# the middle one: it takes the listeners over from the first (incoming side), proxies requests,
# hands off to the third (outgoing side, migration, drain) and writes the cache when it exits.
# Uses only bash and the image's `baton` command: no curl in the JRE image.
set -euo pipefail

out=$1
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Fixed loopback ports: the build container's network namespace is its own.
cat > "$work/baton.yaml" <<YAML
runDir: $work/run
admin:
  address: 127.0.0.1:19901
drain:
  timeout: 10s
listeners:
  - name: web
    address: 127.0.0.1:18080
    protocol: http
    cluster: backend
clusters:
  - name: backend
    endpoints: [127.0.0.1:19000]
YAML

# Waits (60 s at most) for `run`'s one serving line; fails at once if the process died.
await_serving() {
  local log=$1 pid=$2
  for _ in $(seq 600); do
    grep -q '^baton serving ' "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "aot-training: baton exited before serving; its log:" >&2; cat "$log" "$log.err" >&2; return 1; }
    sleep 0.1
  done
  echo "aot-training: no serving line within 60 s in $log" >&2
  return 1
}

# A request over bash's /dev/tcp, keep-alive off; prints the status line.
http_get() {
  local port=$1 path=$2
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET %s HTTP/1.1\r\nHost: training\r\nConnection: close\r\n\r\n' "$path" >&3
  head -n 1 <&3
  exec 3<&-
}

# Starts a generation and waits until it serves; its pid in $started (not echoed: a process
# started in a $(...) subshell is not this shell's child, and `wait` could not reap it).
generation() {
  local name=$1 options=$2
  BATON_JAVA_OPTS="$options" baton run --config "$work/baton.yaml" >"$work/$name.log" 2>"$work/$name.log.err" &
  started=$!
  pids+=("$started")
  await_serving "$work/$name.log" "$started"
}

baton test-upstream --port 19000 >"$work/upstream.log" 2>&1 &
pids+=($!)

generation g1 ""
g1=$started
generation g2 "-XX:AOTCacheOutput=$out"
g2=$started
wait "$g1" || { echo "aot-training: generation 1 did not drain and exit 0 after the handoff" >&2; exit 1; }
for _ in $(seq 200); do
  http_get 18080 /training >/dev/null
  http_get 19901 /metrics >/dev/null
done
http_get 19901 /ready
generation g3 ""
g3=$started
# Generation 2 drains, exits 0 and writes the cache on its way out.
wait "$g2" || { echo "aot-training: generation 2 did not exit 0; its log:" >&2; cat "$work/g2.log.err" >&2; exit 1; }
kill -TERM "$g3"
wait "$g3" || true
test -s "$out" || { echo "aot-training: no AOT cache at $out" >&2; exit 1; }
echo "aot-training: cache $out ($(stat -c %s "$out") bytes)"
