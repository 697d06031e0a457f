# Shared by the bench scripts: logging, the Java command line, a private work directory, the
# processes a script started (ended by pid, and only those), and waiting on their output.
# Source it after setting BENCH_NAME (and optionally BENCH_HEAP, default 256m).
#
# Every wait has a deadline; every process started goes into PIDS so that cleanup ends it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/sidecar/target/baton.jar"
# The test kit (`baton test-upstream`, `baton h2-load`): not in baton.jar; baton.jar loads it from
# this checkout's build when asked for one of its commands.
TESTKIT_JAR="$ROOT/testkit-cli/target/baton-testkit.jar"
OUT_DIR="$ROOT/bench/out"

log() { echo "[$BENCH_NAME] $*" >&2; }
die() { echo "[$BENCH_NAME] error: $*" >&2; exit 1; }

[[ -f "$JAR" ]] || die "no $JAR: build it first (mvn -B -o -DskipTests package)"
[[ -f "$TESTKIT_JAR" ]] || die "no $TESTKIT_JAR: build it first (mvn -B -o -DskipTests package)"

# need TOOL HINT: dies naming the tool and where it comes from
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (expected it: $2)"
}

# ensure_pkg COMMAND|/ABSOLUTE/FILE PACKAGE...: installs the Debian package(s) with apt-get when the
# command (or file, e.g. a header) is missing, then checks again; dies naming what is missing and the
# package it comes from.
ensure_pkg() {
  local what="$1" sudo=()
  shift
  if [[ "$what" == /* ]]; then [[ -e "$what" ]] && return 0; else command -v "$what" >/dev/null 2>&1 && return 0; fi
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  log "$what not found: installing Debian package(s) $* with apt-get"
  "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed (needed to install $* for $what)"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null \
    || die "apt-get install $* failed: $what is needed (Debian package $*)"
  if [[ "$what" == /* ]]; then [[ -e "$what" ]]; else command -v "$what" >/dev/null 2>&1; fi \
    || die "$what is still missing after installing Debian package(s) $*"
}

JAVA_SPEC="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
JDK_FLAGS=()
if [[ "${JAVA_SPEC%%.*}" -ge 24 ]]; then
  # Netty 4.2 on JDK 24+ (design.md, measured pitfalls).
  JDK_FLAGS=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED)
fi
JAVA=(java "-Xmx${BENCH_HEAP:-256m}" "${JDK_FLAGS[@]}")
# How start_baton starts Baton (the command before `run --config FILE`): like the bench's other
# JVMs (JAVA, a fixed heap), unless the bench calls baton_jvm_as_readme.
BATON_RUN=("${JAVA[@]}" -jar "$JAR")
# baton_jvm_as_readme: Baton as README "Running it" starts it: `bin/baton run`, with the JVM options
# bin/baton chooses and the start-up cache `bin/baton startup-cache` makes (made here first unless
# STARTUP_CACHE=0), plus $BATON_JAVA_OPTS, which bin/baton puts last, so that flags can be compared
# (e.g. BATON_JAVA_OPTS="-XX:TieredStopAtLevel=1"). Benches that measure what an operator gets
# (memory, start-up) use this, not the bench heap.
baton_jvm_as_readme() {
  if [[ "${STARTUP_CACHE:-1}" != 0 ]]; then
    BATON_JAR="$JAR" "$ROOT/bin/baton" startup-cache >&2 || die "bin/baton startup-cache failed"
  fi
  BATON_RUN=(env "BATON_JAR=$JAR" "BATON_JAVA_OPTS=${BATON_JAVA_OPTS:-}" "$ROOT/bin/baton")
}

CLK_TCK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system of a process, in clock ticks
# cpu_ms PID: CPU time (user + system) a process has used so far, ms
cpu_ms() { awk -v hz="$CLK_TCK" '{ printf "%d", ($14 + $15) * 1000 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# machine_cpu: "busy total" jiffies of all CPUs so far (/proc/stat), for the share of the machine that
# was busy between two readings -- ours and anybody else's
machine_cpu() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }
# busy_pct "BUSY0 TOTAL0" "BUSY1 TOTAL1"
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
  if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "n/a" }'; }
# others_snap FILE: "pid ticks" of every process that is not this bench's (user + system, plus the
# reaped children's), for what the neighbours on this shared machine took during a run. A process
# born and gone between two snapshots counts only through a surviving parent that reaped it.
others_snap() {
  local mine=" $$ ${PIDS[*]} "
  # (cat fails on a process that ended after the glob: with pipefail that would end the bench)
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v mine="$mine" '{ p = $1; s = $0; sub(/^[^)]*\) /, "", s); split(s, f, " ")
    if (index(mine, " " p " ") == 0) print p, f[12] + f[13] + f[14] + f[15] }' >"$1"
}
# others_pct FILE0 FILE1 WALL_US: the neighbours' CPU between two snapshots, % of the whole machine
others_pct() {
  awk -v hz="$CLK_TCK" -v wall="$3" -v n="$(nproc)" 'NR == FNR { t0[$1] = $2; next }
    ($1 in t0) && $2 > t0[$1] { d += $2 - t0[$1] }
    END { if (wall > 0) printf "%.0f", 100 * d / hz / (wall / 1e6) / n; else print "n/a" }' "$1" "$2"
}
# tree_pids PID: the process and its descendants, one a line (nginx's workers are its master's
# children; a JVM or HAProxy is one process whose threads /proc/PID/stat already sums)
tree_pids() {
  local c
  echo "$1"
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
# tree_cpu_ticks PID: user + system clock ticks of the process and its descendants so far
tree_cpu_ticks() {
  local p t=0
  for p in $(tree_pids "$1"); do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done
  echo "$t"
}
# tree_mem_kb PID: "RSS PEAK_RSS" in KiB (VmRSS and VmHWM) summed over the process and its
# descendants (pages shared between nginx's master and workers count once per process)
tree_mem_kb() {
  local p
  for p in $(tree_pids "$1"); do cat "/proc/$p/status" 2>/dev/null || true; done \
    | awk '/^VmRSS:/ { r += $2 } /^VmHWM:/ { h += $2 } END { print r + 0, h + 0 }'
}

# now_us: wall clock in microseconds, without a fork (bash 5)
now_us() { echo "${EPOCHREALTIME/./}"; }

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

# start_baton: starts the next Baton generation (BATON_RUN) on "$CFG" (its listener named web) and
# waits until it serves; sets GEN, BATON_PID, BATON_PORT, BATON_H2_PORT (a listener named web-h2, if
# any), ADMIN (host:port), BATON_T0_NS (launch), BATON_SERVING_NS (serving line written), BATON_MS
# (launch to serving line) and BATON_CPU_MS (the CPU the new process had used when it was seen serving).
# It is launch_baton (returns at once, BATON_PID set) then await_baton, for a bench that watches the
# new process while it starts.
GEN=0
start_baton() {
  launch_baton
  await_baton
}
launch_baton() {
  GEN=$((GEN + 1))
  BATON_T0_NS="$(now_us)000"
  "${BATON_RUN[@]}" run --config "$CFG" >"$WORK/baton-$GEN.out" 2>"$WORK/baton-$GEN.out.err" &
  BATON_PID=$!
  PIDS+=("$BATON_PID")
}
await_baton() {
  local out="$WORK/baton-$GEN.out" line
  line="$(wait_for_line "$out" '^baton serving ' "$BATON_PID" 60)"
  BATON_CPU_MS="$(cpu_ms "$BATON_PID")"
  # The serving line is all `run` writes on stdout: the file's modification time is when it was
  # written, finer than the 50 ms poll of wait_for_line.
  BATON_SERVING_NS="$(stat -c %.9Y "$out" | tr -d .)"
  BATON_MS=$(( (BATON_SERVING_NS - BATON_T0_NS) / 1000000 ))
  BATON_PORT="$(sed -E 's/.*listeners=([^ ]*,)?web=[^ ,]*:([0-9]+).*/\2/' <<<"$line")"
  BATON_H2_PORT="$(sed -nE 's/.*listeners=([^ ]*,)?web-h2=[^ ,]*:([0-9]+).*/\2/p' <<<"$line")"
  ADMIN="$(sed -E 's/.* admin=([^ ]+) .*/\1/' <<<"$line")"
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

# free_port: a loopback TCP port nobody listens on, below the ephemeral range (for servers that
# cannot be told to pick one, like nginx and HAProxy)
free_port() {
  local p used
  used="$(ss -Hltn 2>/dev/null | awk '{ sub(/.*:/, "", $4); print $4 }')"
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
  done
  die "no free loopback port found between 20000 and 32000"
}

# build_loadgen: compiles bench/loadgen.c (the issue-14 load generator; why C: its header) into the
# work directory; sets LOADGEN. Installs gcc and libnghttp2-dev with apt-get if they are missing.
build_loadgen() {
  ensure_pkg gcc gcc
  ensure_pkg /usr/include/nghttp2/nghttp2.h libnghttp2-dev
  LOADGEN="$WORK/loadgen"
  gcc -O2 -Wall -o "$LOADGEN" "$ROOT/bench/loadgen.c" -lnghttp2 2>"$WORK/loadgen.build" \
    || die "building bench/loadgen.c failed: $(cat "$WORK/loadgen.build")"
}

# start_nginx: the upstream, nginx from Debian, serving a small static body on 127.0.0.1: HTTP/1.1
# keep-alive on NGINX_PORT and h2c with prior knowledge on NGINX_H2_PORT (nginx 1.22 speaks it on a
# cleartext `http2` listener: checked with curl --http2-prior-knowledge and h2load). One process
# (`master_process off`): the pid started is the whole server, so ending it by pid ends all of nginx.
# keepalive_requests is raised from its default 1000, which would close the proxies' pooled upstream
# connections (a GOAWAY on h2c) every 1000 requests: churn that has nothing to do with a handoff.
# Sets NGINX_PID, NGINX_PORT, NGINX_H2_PORT. With NGINX_TLS_CERT and NGINX_TLS_KEY set (PEM files),
# it also serves HTTP/1.1 over TLS on NGINX_TLS_PORT (set then; empty otherwise).
start_nginx() {
  ensure_pkg nginx nginx
  local dir="$WORK/nginx" attempt deadline tls_listen
  mkdir -p "$dir"
  for attempt in 1 2 3; do
    NGINX_PORT="$(free_port)"
    NGINX_H2_PORT="$(free_port)"
    [[ "$NGINX_PORT" != "$NGINX_H2_PORT" ]] || continue
    NGINX_TLS_PORT="" tls_listen=""
    if [[ -n "${NGINX_TLS_CERT:-}" ]]; then
      NGINX_TLS_PORT="$(free_port)"
      [[ "$NGINX_TLS_PORT" != "$NGINX_PORT" && "$NGINX_TLS_PORT" != "$NGINX_H2_PORT" ]] || continue
      tls_listen="listen 127.0.0.1:$NGINX_TLS_PORT ssl; ssl_certificate $NGINX_TLS_CERT; ssl_certificate_key $NGINX_TLS_KEY;"
    fi
    cat >"$dir/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    listen 127.0.0.1:$NGINX_H2_PORT http2;
    $tls_listen
    location / { default_type text/plain; return 200 "hello from nginx\n"; }
  }
}
NGINX
    nginx -p "$dir" -c "$dir/nginx.conf" >"$dir/out" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    deadline=$((SECONDS + 10))
    while kill -0 "$NGINX_PID" 2>/dev/null && (( SECONDS < deadline )); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null \
        && curl -fsS -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$NGINX_H2_PORT/" 2>/dev/null \
        && { [[ -z "$NGINX_TLS_PORT" ]] || curl -fsSk -o /dev/null "https://127.0.0.1:$NGINX_TLS_PORT/" 2>/dev/null; }; then
        log "nginx pid $NGINX_PID: HTTP/1.1 on 127.0.0.1:$NGINX_PORT, h2c on 127.0.0.1:$NGINX_H2_PORT${NGINX_TLS_PORT:+, TLS on 127.0.0.1:$NGINX_TLS_PORT}"
        return 0
      fi
      sleep 0.05
    done
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait_exit "$NGINX_PID" 10
    log "nginx attempt $attempt did not serve (a port taken meanwhile?): $(tail -3 "$dir/error.log" "$dir/out" 2>/dev/null | tr '\n' ' ')"
  done
  die "nginx did not start (see above; nginx comes from Debian package nginx)"
}

# write_nginx_baton_config FILE: one Baton in front of start_nginx's upstream, as the issue-14 benches
# run it: listener web (HTTP/1.1 and h2c) to nginx's HTTP/1.1 port, listener web-h2 to its h2c port
# (cluster protocol h2c, so an h2c load is HTTP/2 end to end); every other setting is Baton's default,
# but for BATON_CONFIG_EXTRA: YAML appended at the top level, to compare settings (e.g.
# BATON_CONFIG_EXTRA=$'handoff:\n  warmUpRequests: 0').
write_nginx_baton_config() {
  cat >"$1" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
${BATON_CONFIG_EXTRA:-}
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
  - name: app-h2
    endpoints: ["127.0.0.1:$NGINX_H2_PORT"]
    protocol: h2c
YAML
}

# machine_header: the lines every issue-14 report starts with (what ran where, and who else ran)
machine_header() {
  echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
       "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
  echo "- java: $(java -version 2>&1 | sed -n 2p) ($(command -v java))"
  echo "- Baton command: \`${BATON_RUN[*]} run --config ...\`" \
       "(BATON_JAVA_OPTS=\"${BATON_JAVA_OPTS:-}\", start-up cache: $([[ "${STARTUP_CACHE:-1}" != 0 ]] && echo yes || echo no))"
  echo "- commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- sidecar handoff proto 2>/dev/null || echo ' (+ uncommitted changes in the product)')," \
       "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), upstream body 17 bytes"
}

# machine_load LABEL: load average, how idle the CPUs were over one second, and the busiest processes
# then that are not this bench's (the machine is shared: say who else was running). top's second
# sample: its first one, and ps's %CPU, are averages over each process's lifetime.
machine_load() {
  local mine=" $$ ${PIDS[*]} "
  top -b -c -n 2 -d 1 -w 300 -o %CPU 2>/dev/null | awk -v mine="$mine" -v label="$1" '
    /^top -/ { n++; la = $0; sub(/.*load average: /, "", la) }
    n < 2 { next }
    /^%Cpu/ { if (match($0, /[0-9.]+ id/)) idle = substr($0, RSTART, RLENGTH - 3) }
    /^ *PID / { table = 1; next }
    table && $9 + 0 > 0 && index(mine, " " $1 " ") == 0 && k < 5 {
      k++; cmd = ""; for (i = 12; i <= NF; i++) cmd = cmd " " $i; others = others sprintf("%s%% %s; ", $9, substr(cmd, 2, 80)) }
    END { if (others == "") others = "none"
          printf "- %s: load average %s; CPUs idle over 1 s: %s%%; busiest other processes then: %s\n", label, la, idle, others }'
}
