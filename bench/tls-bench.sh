#!/usr/bin/env bash
# Baton TLS bench: one Baton with a plain and a TLS listener in front of the test upstream; wrk
# keep-alive throughput over http:// vs https://, then wrk with Connection: close over https://
# (a full TLS handshake per request: wrk does not resume sessions). 127.0.0.1 only; bounded; kills
# only the processes it started. See bench/RESULTS.md.
#
# Usage: bench/tls-bench.sh            (expects sidecar/target/baton.jar, wrk and openssl)
# Knobs (environment): DURATION=10s ROUNDS=3 WARMUP=5s THREADS=2 CONNS=64
set -euo pipefail

BENCH_NAME=tls-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-5s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"

need wrk "scripts/install-test-deps.sh installs Debian package wrk"
need openssl "scripts/install-test-deps.sh installs Debian package openssl"

# An EC P-256 certificate, as a deployment would most likely use.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/web.key" -out "$WORK/web.crt" \
  -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

start_test_upstream

cat >"$WORK/baton.yaml" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
listeners:
  - name: plain
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
  - name: tls
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
    tls:
      certificate: "$WORK/web.crt"
      privateKey: "$WORK/web.key"
clusters:
  - name: app
    endpoints: ["127.0.0.1:$UP_PORT"]
YAML
"${JAVA[@]}" -jar "$JAR" run --config "$WORK/baton.yaml" >"$WORK/baton.out" 2>"$WORK/baton.out.err" &
BATON_PID=$!
PIDS+=("$BATON_PID")
LINE="$(wait_for_line "$WORK/baton.out" '^baton serving ' "$BATON_PID" 60)"
PLAIN_PORT="$(sed -E 's/.*plain=[^ ,]*:([0-9]+).*/\1/' <<<"$LINE")"
TLS_PORT="$(sed -E 's/.*tls=[^ ,]*:([0-9]+).*/\1/' <<<"$LINE")"
log "baton pid $BATON_PID: plain 127.0.0.1:$PLAIN_PORT, tls 127.0.0.1:$TLS_PORT"

run_wrk() { # NAME URL [wrk args]
  local name="$1" url="$2" b0; shift 2
  b0=$(cpu_ticks "$BATON_PID")
  timeout 120 wrk --latency -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" "$url" >"$WORK/wrk-$name.txt" 2>&1 \
    || die "wrk $name failed: $(cat "$WORK/wrk-$name.txt")"
  echo "$(( $(cpu_ticks "$BATON_PID") - b0 ))" >"$WORK/cpu-$name.txt"
}
rps() { awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/wrk-$1.txt"; }
p99() { awk '$1 == "99%" { v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
         if (u == "us") v/=1000; else if (u == "s") v*=1000; printf "%.2f", v }' "$WORK/wrk-$1.txt"; }
total() { awk '/ requests in / {print $1}' "$WORK/wrk-$1.txt"; }
errs() { awk '/Socket errors:/ { gsub(",", ""); s = $4 + $6 + $8 + $10 } /Non-2xx/ { s += $NF } END { print s + 0 }' "$WORK/wrk-$1.txt"; }
cpu_us() { awk -v n="$(total "$1")" -v hz="$CLK_TCK" '{ if (n > 0) printf "%.1f", $1 * 1e6 / hz / n; else print "n/a" }' "$WORK/cpu-$1.txt"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
over_rounds() { local f="$1" prefix="$2"; for r in $(seq 1 "$ROUNDS"); do "$f" "$prefix-$r"; echo; done | median; }

PLAIN="http://127.0.0.1:$PLAIN_PORT/load/bench"
TLS="https://127.0.0.1:$TLS_PORT/load/bench"
CLOSE=(-H 'Connection: close')
log "warm-up"
timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$PLAIN" >/dev/null 2>&1 || die "warm-up failed"
timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$TLS" >/dev/null 2>&1 || die "warm-up failed"
timeout 120 wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${CLOSE[@]}" "$TLS" >/dev/null 2>&1 || die "warm-up failed"
for r in $(seq 1 "$ROUNDS"); do
  log "round $r"
  run_wrk "plain-ka-$r" "$PLAIN"
  run_wrk "tls-ka-$r" "$TLS"
  run_wrk "plain-close-$r" "$PLAIN" "${CLOSE[@]}"
  run_wrk "tls-close-$r" "$TLS" "${CLOSE[@]}"
done

HANDSHAKES="$(curl -s "http://$(sed -E 's/.*admin=([^ ]+).*/\1/' <<<"$LINE")/metrics" | grep '^baton_tls_handshakes_total' || true)"
echo "## TLS bench $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo
echo "$(nproc) CPUs, $(java -version 2>&1 | head -1), wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds (medians), EC P-256 certificate"
echo
echo "| listener | connections | requests/s | p99 ms | Baton CPU µs/request | errors |"
echo "|---|---|---:|---:|---:|---:|"
for m in ka close; do
  for l in plain tls; do
    e=0; for r in $(seq 1 "$ROUNDS"); do e=$(( e + $(errs "$l-$m-$r") )); done
    echo "| $l | $([[ $m == ka ]] && echo keep-alive || echo 'Connection: close') | $(over_rounds rps "$l-$m") | $(over_rounds p99 "$l-$m") | $(over_rounds cpu_us "$l-$m") | $e |"
  done
done
echo
echo "$HANDSHAKES"
echo
echo "wrk's own error lines (timeouts are requests slower than its 2 s timeout):"
for f in "$WORK"/wrk-*.txt; do
  grep -H -E "Socket errors|Non-2xx" "$f" | sed "s|$WORK/||" || true
done
