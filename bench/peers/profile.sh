# Sourced by bench/peers.sh when PROFILE=1 (not a script of its own: it uses the proxies peers.sh
# started and its run/url_of/pid_of). Where the time goes under the PROFILE_PATH load: syscalls per
# request of each proxy (strace -c -f), then Baton's CPU profile (async-profiler) with a summary:
# the share of each thread kind, of chosen frames (inclusive), and the hottest leaf frames.

P="$PROFILE_PATH"
STAMP="$(date +%Y%m%d-%H%M%S)"
PROF_DIR="$OUT_DIR/peers-profile-$STAMP"
mkdir -p "$PROF_DIR"
for t in nginx haproxy baton; do run "$P" "$t" "$WARMUP" "$P-$t-warm"; done

# requests NAME: requests the measured run NAME completed (column 8 of $WORK/results)
requests() { awk -v n="$1" '$3 == n { print $8 }' "$WORK/results"; }

# strace_run TARGET: one DURATION s run of the load with strace -c -f on the proxy's processes ->
# $WORK/strace-TARGET.txt (strace's summary table)
strace_run() {
  local target="$1" pid p args=() spid deadline=$((SECONDS + 20)) f="$WORK/strace-$1.txt"
  pid="$(pid_of "$target")"
  for p in $(tree_pids "$pid"); do args+=(-p "$p"); done
  strace -c -f -q -o "$f" "${args[@]}" 2>"$f.err" &
  spid=$!
  PIDS+=("$spid")
  # attached when the proxy's process says it is traced
  until [[ "$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status")" != 0 ]]; do
    kill -0 "$spid" 2>/dev/null || die "strace on $target (pid $pid) exited: $(cat "$f.err")"
    ((SECONDS < deadline)) || die "strace did not attach to $target (pid $pid) within 20 s"
    sleep 0.05
  done
  sleep 0.5 # (-f: the other threads and processes are attached in turn)
  run "$P" "$target" "$DURATION" "$P-$target-strace"
  kill -INT "$spid"
  wait_exit "$spid" 60
  forget_pid "$spid"
  grep -q ' total$' "$f" || die "strace on $target wrote no summary: $(tail -3 "$f" "$f.err" | tr '\n' ' ')"
}
# syscalls_per_request TARGET: "TOTAL (name N, name N, ...)": calls per request in all, and of the
# syscalls that make up 95 % of them
syscalls_per_request() {
  awk -v n="$(requests "$P-$1-strace")" '
    $NF == "total" { total = $4; next }
    $1 ~ /^[0-9.]+$/ && NF >= 5 { c[$NF] = $4; order[++k] = $NF }
    END { if (n == 0) { print "n/a"; exit }
          # strace sorts by time; order by calls here
          for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (c[order[j]] > c[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
          s = 0; list = ""
          for (i = 1; i <= k && s < 0.95 * total; i++) { s += c[order[i]]; list = list sprintf("%s%s %.2f", (i > 1 ? ", " : ""), order[i], c[order[i]] / n) }
          printf "**%.2f** (%s)", total / n, list }' "$WORK/strace-$1.txt"
}
for t in nginx haproxy baton; do strace_run "$t"; done

# --- Baton's CPU profile -------------------------------------------------------------------------
AP_DIR="$WORK/async-profiler"
mkdir -p "$AP_DIR"
AP_ARTIFACT="tools.profiler:async-profiler:$ASYNC_PROFILER_VERSION"
AP_GOAL=org.apache.maven.plugins:maven-dependency-plugin:3.9.0:copy
mvn -o -q -B "$AP_GOAL" -Dartifact="$AP_ARTIFACT" -DoutputDirectory="$AP_DIR" >"$AP_DIR/mvn.out" 2>&1 \
  || mvn -q -B "$AP_GOAL" -Dartifact="$AP_ARTIFACT" -DoutputDirectory="$AP_DIR" >"$AP_DIR/mvn.out" 2>&1 \
  || die "could not get $AP_ARTIFACT from Maven Central: $(tail -5 "$AP_DIR/mvn.out")"
unzip -q -o "$AP_DIR/async-profiler-$ASYNC_PROFILER_VERSION.jar" linux-x64/libasyncProfiler.so -d "$AP_DIR" \
  || die "no linux-x64/libasyncProfiler.so in $AP_ARTIFACT"
AP_LIB="$AP_DIR/linux-x64/libasyncProfiler.so"
# ap ARGS: an async-profiler command to the running Baton (loaded with jcmd, as asprof does)
# (quoted for jcmd's parser, which would take "a=b" as an option of its own; async-profiler's
# messages go to Baton's stdout, so its return code here is the only sign of success)
ap() {
  timeout 60 jcmd "$BATON_PID" JVMTI.agent_load "$AP_LIB" "\"$1\"" >>"$AP_DIR/jcmd.out" 2>&1 \
    && tail -1 "$AP_DIR/jcmd.out" | grep -q 'return code: 0'
}
AP_EVENT=cpu # perf_events; where the kernel refuses them, the interval timer (no kernel frames)
ap "start,event=cpu,interval=1ms,threads" || { AP_EVENT=itimer; ap "start,event=itimer,interval=1ms,threads"; } \
  || die "async-profiler did not start in Baton (pid $BATON_PID): $(tail -5 "$AP_DIR/jcmd.out")"
run "$P" baton "$DURATION" "$P-baton-profile"
ap "dump,file=$PROF_DIR/baton-$P.collapsed,collapsed" || die "async-profiler dump failed: $(tail -5 "$AP_DIR/jcmd.out")"
ap "stop,file=$PROF_DIR/baton-$P.html" || die "async-profiler stop failed: $(tail -5 "$AP_DIR/jcmd.out")"
[[ -s "$PROF_DIR/baton-$P.collapsed" ]] || die "async-profiler wrote no profile: $(tail -5 "$AP_DIR/jcmd.out")"

# shares COLLAPSED: the profile's samples, in % of all, by thread kind; by where the leaf frame is
# (self time: kernel, Netty, Baton, JDK, native); by chosen frames (inclusive: a sample counts for
# every pattern one of its frames matches); and the 25 hottest leaf frames outside the kernel
shares() {
  awk '
    BEGIN { k = 0
      pat[++k] = "epollWait|epoll_wait|epoll_pwait"; name[k] = "waiting in epoll (incl. the wake-ups)"
      pat[++k] = "FileDescriptor[.]write"; name[k] = "socket writes (writev: incl. the loopback delivery to the reader, done on the writer s CPU)"
      pat[++k] = "Socket[.](recv|read)|FileDescriptor[.]read"; name[k] = "socket reads"
      pat[++k] = "epollCtl|epoll_ctl"; name[k] = "epoll_ctl"
      pat[++k] = "io/netty/handler/codec/http/HttpObjectDecoder"; name[k] = "Netty HTTP/1 decoder (HttpObjectDecoder)"
      pat[++k] = "io/netty/handler/codec/http/HttpObjectEncoder"; name[k] = "Netty HTTP/1 encoder (HttpObjectEncoder)"
      pat[++k] = "io/netty/handler/ssl/"; name[k] = "Netty TLS (SslHandler)"
      pat[++k] = "io/netty/handler/codec/http2/"; name[k] = "Netty HTTP/2 codec"
      pat[++k] = "PooledByteBufAllocator|PoolArena|PoolThreadCache"; name[k] = "pooled buffer allocation"
      pat[++k] = "io/baton/"; name[k] = "under Baton frames (io.baton, with all they call)"
      pat[++k] = "(^|;)\\[(VM Thread|GC Thread)"; name[k] = "GC (Serial: the VM thread)"
      pat[++k] = "CompilerThre"; name[k] = "JIT compilers" }
    { n = $NF; $NF = ""; sub(/ $/, ""); total += n; m = split($0, f, ";")
      th = f[1]; gsub(/^\[|\]$/, "", th); sub(/ tid=[0-9]+/, "", th); gsub(/[0-9]+/, "N", th); thread[th] += n
      l = f[m]
      if (l ~ /_\[k\]$/) where["kernel"] += n
      else if (l ~ /^io\/netty\//) where["Netty (Java)"] += n
      else if (l ~ /^io\/baton\//) where["Baton (Java)"] += n
      else if (l ~ /^(java|jdk|sun)\//) where["JDK (Java)"] += n
      else where["native: libc, JVM, JIT stubs"] += n
      if (l !~ /_\[k\]$/) leaf[l] += n
      for (i = 1; i <= k; i++) if ($0 ~ pat[i]) hit[i] += n }
    END {
      print "By thread kind:"
      for (t in thread) printf "%6.1f%%  %s\n", 100 * thread[t] / total, t | "sort -rn | head -8"; close("sort -rn | head -8")
      print ""; print "Self time by where the leaf frame is:"
      for (w in where) printf "%6.1f%%  %s\n", 100 * where[w] / total, w | "sort -rn"; close("sort -rn")
      print ""; print "Inclusive shares of chosen frames:"
      for (i = 1; i <= k; i++) printf "%6.1f%%  %s\n", 100 * hit[i] / total, name[i]
      print ""; print "Hottest leaf frames outside the kernel (self time):"
      for (l in leaf) printf "%6.1f%%  %s\n", 100 * leaf[l] / total, l | "sort -rn | head -25"; close("sort -rn | head -25")
      printf "\n%d samples\n", total }' "$1"
}

{
  echo "## Where the time goes: $(short "$P") load $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Command: \`PROFILE=1 PROFILE_PATH=$P DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS HAPROXY_REUSE=$HAPROXY_REUSE bench/peers.sh\`"
  echo
  machine_header
  echo "$LOAD_BEFORE"
  echo "$(machine_load "after")"
  echo
  echo "Syscalls per request (\`strace -c -f\` on the proxy's processes for a $DURATION s run of the load; strace slows them"
  echo "down: the req/s under strace is not the proxy's):"
  echo
  echo "| proxy | req/s under strace | syscalls per request (the most frequent, per request) |"
  echo "|---|---:|---|"
  for t in nginx haproxy baton; do
    echo "| $t | $(awk -v n="$P-$t-strace" '$3 == n { print $4 }' "$WORK/results") | $(syscalls_per_request "$t") |"
  done
  echo
  echo "Baton, async-profiler $ASYNC_PROFILER_VERSION (event $AP_EVENT, 1 ms) for a $DURATION s run:" \
       "$(awk -v n="$P-baton-profile" '$3 == n { printf "%s req/s, %s µs CPU per request", $4, $10 }' "$WORK/results");" \
       "flame graph: bench/out/$(basename "$PROF_DIR")/baton-$P.html"
  echo
  echo '```'
  shares "$PROF_DIR/baton-$P.collapsed"
  echo '```'
  echo
  echo "strace summaries:"
  for t in nginx haproxy baton; do echo; echo "$t:"; echo '```'; cat "$WORK/strace-$t.txt"; echo '```'; done
} | tee "$PROF_DIR.md"
log "report: $PROF_DIR.md"
