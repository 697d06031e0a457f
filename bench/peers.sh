#!/usr/bin/env bash
# Issue 17, "Measure it the way a user would compare": Baton beside nginx and HAProxy as reverse
# proxies, in one run, in front of the same upstream, under the same loads. Columns: direct (the
# load against the upstream itself), nginx, HAProxy, Baton. Paths: HTTP/1.1 keep-alive (wrk -t2
# -c64), `Connection: close` (the same wrk with that header: a new connection per request), h2c
# (h2load -c16 -m4; HAProxy and Baton proxy it over HTTP/2, nginx over HTTP/1.1: nginx 1.22 cannot
# proxy to an HTTP/2 upstream), TLS keep-alive (wrk over https://, a self-signed EC P-256
# certificate made in the work directory). Per run: req/s, p50/p99/max latency, the proxy's CPU
# (user + system of its processes, from /proc) per request, its RSS. After a warm-up of every
# target on every path, ROUNDS rounds; in each, every path runs against every target, in an order
# that rotates per round, so that a slow spell of the shared machine does not land on one target;
# the report gives medians over the rounds.
#
# Upstream: nginx (Debian), one process, a 17-byte body (lib.sh start_nginx). Proxies: nginx and
# HAProxy from Debian with bench/peers/nginx.conf and haproxy.cfg, Baton as README "Running it"
# starts it (bin/baton run) with bench/peers/baton.yaml; the three configs say what they set alike.
# Everything on 127.0.0.1; every process started here is ended by its pid; every wait has a
# deadline; the work directory is removed at exit (KEEP_WORK=1 keeps it).
#
# Usage: bench/peers.sh           (expects sidecar/target/baton.jar; ~10 min with the defaults)
# Knobs: DURATION=10 (s per run) ROUNDS=3 WARMUP=5 (s per target and path) THREADS=2 CONNS=64
#        H2_THREADS=1 H2_CONNS=16 H2_STREAMS=4 PATHS="ka close h2c tls" HAPROXY_REUSE=always
#        BATON_JAVA_OPTS="..." (as bin/baton takes them)
# Installs nginx, haproxy, wrk, nghttp2-client (h2load), openssl, curl with apt-get if missing.
# Report: stdout and bench/out/peers-STAMP.md.
#
# PROFILE=1 bench/peers.sh: where the time goes instead of the table, under the PROFILE_PATH load
# (ka, close, h2c or tls; default ka) for DURATION s after a WARMUP s warm-up of each proxy: syscalls per
# request of nginx, HAProxy and Baton (`strace -c -f` on their processes: strace slows them down,
# the counts per request are what it is for), then Baton's CPU profile (async-profiler, from Maven
# Central tools.profiler:async-profiler, attached to the running Baton with jcmd; Baton started with
# -XX:+DebugNonSafepoints) with its flame graph. Report: stdout and bench/out/peers-profile-STAMP.md,
# the profile in bench/out/peers-profile-STAMP/.
set -euo pipefail

BENCH_NAME=peers
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-5}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-64}"
H2_THREADS="${H2_THREADS:-1}"
H2_CONNS="${H2_CONNS:-16}"
H2_STREAMS="${H2_STREAMS:-4}"
PATHS="${PATHS:-ka close h2c tls}"
HAPROXY_REUSE="${HAPROXY_REUSE:-always}"
PROFILE="${PROFILE:-0}"
PROFILE_PATH="${PROFILE_PATH:-ka}"
ASYNC_PROFILER_VERSION=4.1
if [[ "$PROFILE" == 1 ]]; then
  # accurate Java frames between safepoints in the profile
  BATON_JAVA_OPTS="${BATON_JAVA_OPTS:-} -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints"
fi
TARGETS=(direct nginx haproxy baton)

for k in DURATION ROUNDS WARMUP THREADS CONNS H2_THREADS H2_CONNS H2_STREAMS; do
  [[ "${!k}" =~ ^[0-9]+$ && "${!k}" -gt 0 ]] || die "$k: \"${!k}\" (expected a whole number > 0)"
done
for p in $PATHS; do [[ "$p" =~ ^(ka|close|h2c|tls)$ ]] || die "PATHS: \"$p\" (expected ka, close, h2c, tls)"; done
[[ "$PROFILE" =~ ^[01]$ ]] || die "PROFILE: \"$PROFILE\" (expected 0 or 1)"
[[ "$PROFILE_PATH" =~ ^(ka|close|h2c|tls)$ ]] || die "PROFILE_PATH: \"$PROFILE_PATH\" (expected ka, close, h2c or tls)"
[[ "$HAPROXY_REUSE" =~ ^(never|safe|aggressive|always)$ ]] || die "HAPROXY_REUSE: \"$HAPROXY_REUSE\" (expected never, safe, aggressive, always)"

ensure_pkg curl curl
ensure_pkg openssl openssl
ensure_pkg nginx nginx
ensure_pkg haproxy haproxy
ensure_pkg wrk wrk
ensure_pkg h2load nghttp2-client
[[ "$PROFILE" == 0 ]] || { ensure_pkg strace strace; need jcmd "the JDK that runs Baton"; need unzip "Debian package unzip"; }
baton_jvm_as_readme
LOAD_BEFORE="$(machine_load "before")"

# --- certificate, upstream ---------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/web.key" \
  -out "$WORK/web.crt" -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null \
  || die "openssl could not make a self-signed certificate in $WORK"
cat "$WORK/web.crt" "$WORK/web.key" >"$WORK/web.pem" # HAProxy wants both in one file
NGINX_TLS_CERT="$WORK/web.crt" NGINX_TLS_KEY="$WORK/web.key" start_nginx
UP_PORT="$NGINX_PORT" UP_H2_PORT="$NGINX_H2_PORT" UP_TLS_PORT="$NGINX_TLS_PORT" UP_PID="$NGINX_PID"

# render TEMPLATE OUT NAME=VALUE...: the template with each @NAME@ replaced; dies if one is left
render() {
  local in="$1" out="$2" kv expr=()
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$in" >"$out"
  ! grep -n -v '^ *#' "$out" | grep '@[A-Z0-9_]*@' >&2 || die "$in: a placeholder above was left unreplaced in $out"
}

# wait_serving NAME PID URL...: until every URL answers 200 (curl; an https URL unchecked, h2c ones
# with prior knowledge when prefixed "h2c:"), at most 30 s, or the process exits
wait_serving() {
  local name="$1" pid="$2" u ok deadline=$((SECONDS + 30))
  shift 2
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid) exited before serving: $(tail -5 "$WORK/$name.out" 2>/dev/null | tr '\n' ' ')"
    ok=1
    for u in "$@"; do
      if [[ "$u" == h2c:* ]]; then curl -fsS -o /dev/null --http2-prior-knowledge "${u#h2c:}" 2>/dev/null || ok=0
      else curl -fsSk -o /dev/null "$u" 2>/dev/null || ok=0; fi
    done
    ((ok)) && return 0
    sleep 0.1
  done
  die "$name (pid $pid) did not answer on $* within 30 s: $(tail -5 "$WORK/$name.out" 2>/dev/null | tr '\n' ' ')"
}

# --- the proxies ---------------------------------------------------------------------------------
# Ports for nginx and HAProxy (they cannot be told to pick one): distinct free loopback ports.
PORTS=()
while ((${#PORTS[@]} < 6)); do
  p="$(free_port)"
  [[ " ${PORTS[*]} $UP_PORT $UP_H2_PORT $UP_TLS_PORT " == *" $p "* ]] || PORTS+=("$p")
done

mkdir -p "$WORK/nginx-proxy"
render bench/peers/nginx.conf "$WORK/nginx-proxy/nginx.conf" DIR="$WORK/nginx-proxy" WORKERS="$(nproc)" \
  UP_PORT="$UP_PORT" PORT="${PORTS[0]}" H2_PORT="${PORTS[1]}" TLS_PORT="${PORTS[2]}" CERT="$WORK/web.crt" KEY="$WORK/web.key"
nginx -p "$WORK/nginx-proxy" -c "$WORK/nginx-proxy/nginx.conf" >"$WORK/nginx-proxy.out" 2>&1 &
NGINX_PROXY_PID=$!
PIDS+=("$NGINX_PROXY_PID")
wait_serving nginx-proxy "$NGINX_PROXY_PID" "http://127.0.0.1:${PORTS[0]}/" "h2c:http://127.0.0.1:${PORTS[1]}/" "https://127.0.0.1:${PORTS[2]}/"
# its workers are ours too: not neighbours in others_snap
mapfile -t -O "${#PIDS[@]}" PIDS < <(tree_pids "$NGINX_PROXY_PID" | tail -n +2)
log "nginx proxy pid $NGINX_PROXY_PID ($(($(tree_pids "$NGINX_PROXY_PID" | wc -l) - 1)) workers): ${PORTS[0]} h2c ${PORTS[1]} tls ${PORTS[2]}"

render bench/peers/haproxy.cfg "$WORK/haproxy.cfg" THREADS="$(nproc)" REUSE="$HAPROXY_REUSE" UP_PORT="$UP_PORT" \
  UP_H2_PORT="$UP_H2_PORT" PORT="${PORTS[3]}" H2_PORT="${PORTS[4]}" TLS_PORT="${PORTS[5]}" PEM="$WORK/web.pem"
haproxy -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 &
HAPROXY_PID=$!
PIDS+=("$HAPROXY_PID")
wait_serving haproxy "$HAPROXY_PID" "http://127.0.0.1:${PORTS[3]}/" "h2c:http://127.0.0.1:${PORTS[4]}/" "https://127.0.0.1:${PORTS[5]}/"
log "haproxy pid $HAPROXY_PID: ${PORTS[3]} h2c ${PORTS[4]} tls ${PORTS[5]}"

CFG="$WORK/baton.yaml"
render bench/peers/baton.yaml "$CFG" DIR="$WORK" UP_PORT="$UP_PORT" UP_H2_PORT="$UP_H2_PORT" \
  CERT="$WORK/web.crt" KEY="$WORK/web.key"
start_baton
BATON_TLS_PORT="$(sed -nE 's/.*listeners=([^ ]*,)?web-tls=[^ ,]*:([0-9]+).*/\2/p' "$WORK/baton-$GEN.out")"
[[ -n "$BATON_H2_PORT" && -n "$BATON_TLS_PORT" ]] || die "no web-h2 or web-tls port in Baton's serving line: $(cat "$WORK/baton-$GEN.out")"
wait_serving baton "$BATON_PID" "http://127.0.0.1:$BATON_PORT/" "h2c:http://127.0.0.1:$BATON_H2_PORT/" "https://127.0.0.1:$BATON_TLS_PORT/"

# url_of PATH TARGET; pid_of TARGET (the proxy's process, "" for direct)
url_of() {
  local port
  case "$2/$1" in
    direct/ka | direct/close) port=$UP_PORT ;; direct/h2c) port=$UP_H2_PORT ;; direct/tls) port=$UP_TLS_PORT ;;
    nginx/ka | nginx/close) port=${PORTS[0]} ;; nginx/h2c) port=${PORTS[1]} ;; nginx/tls) port=${PORTS[2]} ;;
    haproxy/ka | haproxy/close) port=${PORTS[3]} ;; haproxy/h2c) port=${PORTS[4]} ;; haproxy/tls) port=${PORTS[5]} ;;
    baton/ka | baton/close) port=$BATON_PORT ;; baton/h2c) port=$BATON_H2_PORT ;; baton/tls) port=$BATON_TLS_PORT ;;
  esac
  if [[ "$1" == tls ]]; then echo "https://127.0.0.1:$port/"; else echo "http://127.0.0.1:$port/"; fi
}
pid_of() { case "$1" in nginx) echo "$NGINX_PROXY_PID" ;; haproxy) echo "$HAPROXY_PID" ;; baton) echo "$BATON_PID" ;; *) echo "" ;; esac; }

# forget_pid PID: a process that has ended and been waited for leaves PIDS (its number may be reused)
forget_pid() {
  local p keep=()
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# --- one run -------------------------------------------------------------------------------------
# run PATH TARGET SECONDS NAME -> $WORK/res/NAME.out (the tool's output) and, for a measured run, a
# line in $WORK/results: path target name rps p50_ms p99_ms max_ms requests errors cpu_us_per_req
# rss_kb peak_rss_kb others_pct
mkdir -p "$WORK/res"
: >"$WORK/results"
H2_WARM=1 # h2load's own warm-up (its connections set up before the measured time; see h2-bench.sh)
run() {
  local path="$1" target="$2" secs="$3" name="$4" url pid out="$WORK/res/$4" c0="" c1="" t0 lpid
  url="$(url_of "$path" "$target")"
  pid="$(pid_of "$target")"
  others_snap "$out.others0"
  t0="$(now_us)"
  if [[ "$path" == h2c ]]; then
    timeout $((secs + H2_WARM + 60)) h2load -t"$H2_THREADS" -c"$H2_CONNS" -m"$H2_STREAMS" -D"$secs" \
      --warm-up-time="$H2_WARM" --log-file="$out.log" "$url" >"$out.out" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    # the measured time starts after h2load's warm-up: read the proxy's CPU then
    sleep "$H2_WARM"
    [[ -z "$pid" ]] || c0="$(tree_cpu_ticks "$pid")"
  else
    local hdr=()
    [[ "$path" == close ]] && hdr=(-H 'Connection: close')
    [[ -z "$pid" ]] || c0="$(tree_cpu_ticks "$pid")"
    timeout $((secs + 60)) wrk --latency -t"$THREADS" -c"$CONNS" -d"${secs}s" "${hdr[@]}" "$url" >"$out.out" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
  fi
  wait "$lpid" || die "$name: the load generator failed (exit $?): $(tail -5 "$out.out" | tr '\n' ' ')"
  forget_pid "$lpid"
  [[ -z "$pid" ]] || c1="$(tree_cpu_ticks "$pid")"
  others_snap "$out.others1"
  [[ "$name" == *-warm ]] && return 0
  local rps p50 p99 max reqs errs cpu mem others
  if [[ "$path" == h2c ]]; then
    rps="$(awk '/^finished in/ { gsub(",", ""); printf "%.0f", $4 }' "$out.out")"
    reqs="$(awk '/^requests:/ { print $8 }' "$out.out")"
    errs="$(awk '/^requests:/ { e = $10 + $12 + $14 } /^status codes:/ { gsub(",", ""); e += $5 + $7 + $9 } END { print e + 0 }' "$out.out")"
    read -r p50 p99 max < <(awk '{ print $3 }' "$out.log" | sort -n | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "n/a n/a n/a"; exit }
      a = int(NR * 0.5); b = int(NR * 0.99); if (a < 1) a = 1; if (b < 1) b = 1
      printf "%.2f %.2f %.2f\n", v[a] / 1000, v[b] / 1000, v[NR] / 1000 }')
  else
    rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out.out")"
    reqs="$(awk '/ requests in / { print $1 }' "$out.out")"
    errs="$(awk '/Socket errors:/ { gsub(",", ""); e = $4 + $6 + $8 + $10 } /Non-2xx/ { e += $NF } END { print e + 0 }' "$out.out")"
    # wrk prints latencies as 1.23ms, 456.00us, 1.02s
    read -r p50 p99 max < <(awk 'function ms(v,  u) { u = v; sub(/^[0-9.]+/, "", u); v += 0
        return u == "us" ? v / 1000 : (u == "s" ? v * 1000 : (u == "m" ? v * 60000 : v)) }
      $1 == "Latency" && !m { m = ms($4) } $1 == "50%" { a = ms($2) } $1 == "99%" { b = ms($2) }
      END { printf "%.2f %.2f %.2f\n", a, b, m }' "$out.out")
  fi
  [[ -n "$rps" && -n "$reqs" ]] || die "$name: no result in the load generator's output: $(tail -5 "$out.out" | tr '\n' ' ')"
  cpu="-" mem="- -"
  if [[ -n "$pid" ]]; then
    cpu="$(awk -v d=$((c1 - c0)) -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "n/a" }')"
    mem="$(tree_mem_kb "$pid")"
  fi
  others="$(others_pct "$out.others0" "$out.others1" $(($(now_us) - t0)))"
  echo "$path $target $name $rps $p50 $p99 $max $reqs $errs $cpu $mem $others" >>"$WORK/results"
  log "$name: $rps req/s, p50 $p50 ms, p99 $p99 ms, max $max ms, $errs errors, ${cpu} µs CPU/request, neighbours $others%"
}

short() { case "$1" in ka) echo keep-alive ;; close) echo close ;; h2c) echo h2c ;; tls) echo TLS ;; esac; }

if [[ "$PROFILE" == 1 ]]; then
  # shellcheck source=bench/peers/profile.sh
  source bench/peers/profile.sh
  exit 0
fi

# --- the runs ------------------------------------------------------------------------------------
T_START=$SECONDS
for path in $PATHS; do
  for target in "${TARGETS[@]}"; do run "$path" "$target" "$WARMUP" "$path-$target-warm"; done
done
for r in $(seq 1 "$ROUNDS"); do
  for path in $PATHS; do
    for i in 0 1 2 3; do
      target="${TARGETS[$(((i + r - 1) % 4))]}"
      run "$path" "$target" "$DURATION" "$path-$target-$r"
    done
  done
done
RUN_SECS=$((SECONDS - T_START))
LOAD_AFTER="$(machine_load "after")"

# --- report --------------------------------------------------------------------------------------
# col N PATH TARGET: the median over the rounds of column N of $WORK/results (n/a if none)
col() {
  awk -v n="$1" -v p="$2" -v t="$3" '$1 == p && $2 == t && $n != "-" && $n != "n/a" { print $n }' "$WORK/results" \
    | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "—"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
col_max() { awk -v n="$1" -v t="$2" '$2 == t && $n != "-" { if ($n > m) m = $n } END { print m + 0 }' "$WORK/results"; }
col_sum() { awk -v n="$1" -v p="$2" -v t="$3" '$1 == p && $2 == t { s += $n } END { print s + 0 }' "$WORK/results"; }
thousands() { sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' <<<"$1"; }
# best peer: the higher req/s of nginx and HAProxy; Baton's ratio to it
vs_best() {
  awk -v b="$(col 4 "$1" baton)" -v n="$(col 4 "$1" nginx)" -v h="$(col 4 "$1" haproxy)" \
    'BEGIN { m = n > h ? n : h; if (m > 0 && b > 0) printf "%.2f× %s", b / m, (n > h ? "nginx" : "HAProxy"); else print "n/a" }'
}
label() {
  case "$1" in
    ka) echo "HTTP/1.1 keep-alive" ;; close) echo "\`Connection: close\`" ;; tls) echo "TLS keep-alive" ;;
    h2c) echo "h2c (HTTP/2 upstream for HAProxy and Baton, HTTP/1.1 for nginx)" ;;
  esac
}
STAMP="$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/peers-$STAMP.md"
{
  echo "## Against nginx and HAProxy $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Command: \`$(for k in DURATION ROUNDS WARMUP THREADS CONNS H2_THREADS H2_CONNS H2_STREAMS HAPROXY_REUSE; do printf '%s=%s ' "$k" "${!k}"; done)PATHS=\"$PATHS\" BATON_JAVA_OPTS=\"${BATON_JAVA_OPTS:-}\" bench/peers.sh\`"
  echo
  machine_header
  echo "- peers: HAProxy $(haproxy -v 2>/dev/null | sed -n '1s/HAProxy version \([^ ]*\).*/\1/p') ($(nproc) threads)," \
       "nginx proxy with $(nproc) workers; configs bench/peers/{nginx.conf,haproxy.cfg,baton.yaml};" \
       "TLS: self-signed EC P-256, TLS 1.3 as wrk negotiates it"
  echo "- load: $(wrk --version 2>&1 | head -1 | awk '{ print $1, $2 }') -t$THREADS -c$CONNS (keep-alive, close, TLS);" \
       "$(h2load --version | head -1) -t$H2_THREADS -c$H2_CONNS -m$H2_STREAMS (h2c, prior knowledge);" \
       "$ROUNDS rounds of $DURATION s per path and target after a $WARMUP s warm-up of each; medians over the rounds;" \
       "$RUN_SECS s in all. Everything (load, proxies, upstream) shares the $(nproc) CPUs."
  echo "$LOAD_BEFORE"
  echo "$LOAD_AFTER"
  echo
  echo "| path | direct | nginx | HAProxy | Baton | Baton ÷ better peer |"
  echo "|---|---:|---:|---:|---:|---|"
  for p in $PATHS; do
    echo "| $(label "$p") req/s | $(for t in "${TARGETS[@]}"; do printf '%s | ' "$(thousands "$(col 4 "$p" "$t")")"; done)**$(vs_best "$p")** |"
    echo "| $(short "$p") p50 / **p99** / max ms | $(for t in "${TARGETS[@]}"; do printf '%s / **%s** / %s | ' "$(col 5 "$p" "$t")" "$(col 6 "$p" "$t")" "$(col 7 "$p" "$t")"; done) |"
  done
  for p in $PATHS; do
    echo "| proxy CPU µs per $(short "$p") request | — | $(for t in nginx haproxy baton; do printf '%s | ' "$(col 10 "$p" "$t")"; done) |"
  done
  echo "| proxy RSS MiB at the end (peak) | — | $(for t in nginx haproxy baton; do
      printf '%s (%s) | ' "$(awk -v k="$(col_max 11 "$t")" 'BEGIN { printf "%.0f", k / 1024 }')" "$(awk -v k="$(col_max 12 "$t")" 'BEGIN { printf "%.0f", k / 1024 }')"; done) |"
  echo "| errors (socket errors, non-2xx, failed streams; all rounds) | $(for t in "${TARGETS[@]}"; do
      s=0; for p in $PATHS; do s=$((s + $(col_sum 9 "$p" "$t"))); done; printf '%s | ' "$s"; done) |"
  echo "| neighbours' CPU during the runs, % of the machine (median) | $(for t in "${TARGETS[@]}"; do
      printf '%s | ' "$(awk -v t="$t" '$2 == t { print $13 }' "$WORK/results" | sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "—" }')"; done) |"
  echo
  echo "Req/s of each round (run order rotates per round), and in brackets the neighbours' CPU during that run, % of the machine:"
  echo
  echo "| path | direct | nginx | HAProxy | Baton |"
  echo "|---|---|---|---|---|"
  for p in $PATHS; do
    echo "| $(short "$p") | $(for t in "${TARGETS[@]}"; do printf '%s | ' "$(awk -v p="$p" -v t="$t" '$1 == p && $2 == t { printf "%s%s (%s%%)", s, $4, $13; s = ", " }' "$WORK/results")"; done)"
  done
  echo
  echo "Proxy CPU = user + system time of the proxy's processes (nginx: master and workers) from /proc, over the"
  echo "measured time, divided by the requests completed then. RSS = VmRSS (VmHWM) summed over those processes,"
  echo "highest after any run. Latencies: wrk --latency (keep-alive, close, TLS), h2load's per-request log (h2c)."
} | tee "$REPORT"
log "report: $REPORT"
