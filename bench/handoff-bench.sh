#!/usr/bin/env bash
# Issue 14, "A handoff nobody notices": what a handoff costs the clients under load. For each load
# shape (HTTP/1.1 keep-alive, `Connection: close`, h2c), in one run, alternating: the load for
# DURATION s with no handoff, then the same load with HANDOFFS handoffs HANDOFF_INTERVAL s apart
# (each = a new `baton run` with the same config, README "Handing off"). Reported per pair: requests
# served and the ratio to the no-handoff run, p99 and its ratio, the longest stall (no response to
# anyone), failed requests, start of the new process -> its serving line; plus start -> serving with
# no load, and (HAPROXY=1) the same table for HAProxy 2.6 doing `-x` seamless reloads.
#
# Upstream: nginx (Debian), one process, a 17-byte body. Load: bench/loadgen.c (C, one thread; why:
# its header), built here. Baton: the packaged jar started as README "Running it" does (JVM defaults)
# plus $BATON_JAVA_OPTS. Everything on 127.0.0.1; every process started here is ended by its pid;
# every wait has a deadline; the work directory is removed at exit (KEEP_WORK=1 keeps it).
#
# Usage: bench/handoff-bench.sh          (expects sidecar/target/baton.jar; ~6 min with the defaults)
# Knobs: DURATION=20 ROUNDS=1 WARMUP=5 CONNS=64 H2_CONNS=16 H2_STREAMS=4 HANDOFFS=5 HANDOFF_INTERVAL=3.5
#        IDLE_HANDOFFS=5 SHAPES="ka close h2c" HAPROXY=1 BATON_JAVA_OPTS="..."
# Report: stdout and bench/out/handoff-STAMP.md; per-run timelines in bench/out/handoff-STAMP/.
# Exit status 1 if any request through Baton failed.
set -euo pipefail

BENCH_NAME=handoff-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DURATION="${DURATION:-20}"
ROUNDS="${ROUNDS:-1}"
WARMUP="${WARMUP:-5}"
CONNS="${CONNS:-64}"
H2_CONNS="${H2_CONNS:-16}"
H2_STREAMS="${H2_STREAMS:-4}"
HANDOFFS="${HANDOFFS:-5}"
HANDOFF_INTERVAL="${HANDOFF_INTERVAL:-3.5}"
IDLE_HANDOFFS="${IDLE_HANDOFFS:-5}"
SHAPES="${SHAPES:-ka close h2c}"
HAPROXY="${HAPROXY:-1}"

for k in DURATION WARMUP HANDOFF_INTERVAL; do
  [[ "${!k}" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "$k: \"${!k}\" (expected seconds, e.g. 20 or 3.5)"
done
for k in ROUNDS CONNS H2_CONNS H2_STREAMS HANDOFFS IDLE_HANDOFFS HAPROXY; do
  [[ "${!k}" =~ ^[0-9]+$ ]] || die "$k: \"${!k}\" (expected a whole number)"
done
for s in $SHAPES; do [[ "$s" == ka || "$s" == close || "$s" == h2c ]] || die "SHAPES: \"$s\" (expected ka, close, h2c)"; done
us_of() { awk -v s="$1" 'BEGIN { printf "%d", s * 1e6 }'; }
DURATION_US="$(us_of "$DURATION")"
INTERVAL_US="$(us_of "$HANDOFF_INTERVAL")"

ensure_pkg curl curl
(( HAPROXY == 0 )) || ensure_pkg haproxy haproxy
baton_jvm_as_readme
build_loadgen
LOAD_BEFORE="$(machine_load "before")"
start_nginx

CFG="$WORK/baton.yaml"
write_nginx_baton_config "$CFG"
start_baton
COLD_MS="$BATON_MS"

# --- handoffs ------------------------------------------------------------------------------------
# A row per handoff in FILE: number, launch ns, serving ns, old exit ns, CPU ms of the new process by
# its serving line, % of the machine busy from launch to serving, then ms after launch of its first
# log line, `welcomed`, `listeners_received`, `ready_sent` (Baton's own handoff log; - for HAProxy).

# tod_ms NS: ms since local midnight (Baton's log lines carry the local time of day)
tod_ms() {
  local s=$(($1 / 1000000000)) ms=$(($1 / 1000000 % 1000)) hms
  printf -v hms '%(%H %M %S)T' "$s"
  read -r h m sec <<<"$hms"
  echo $((((10#$h * 60 + 10#$m) * 60 + 10#$sec) * 1000 + ms))
}
# baton_phases STDERR_FILE LAUNCH_NS: when (ms after launch) the new generation logged its first line
# (the JVM is up and Baton's main runs), was welcomed by the old one, had the listeners, said Ready
baton_phases() {
  awk -v t0="$(tod_ms "$2")" '
    function rel(ts,  a, d) { split(ts, a, /[:.]/); d = ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4] - t0;
                              if (d < -43200000) d += 86400000; return d }
    $1 ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\./ && first == "" { first = rel($1) }
    / welcomed \(/ && w == "" { w = rel($1) }
    / listeners_received / && l == "" { l = rel($1) }
    / ready_sent / && r == "" { r = rel($1) }
    END { printf "%s %s %s %s", first == "" ? "-" : first, w == "" ? "-" : w, l == "" ? "-" : l, r == "" ? "-" : r }' "$1"
}

handoff_baton() { # FILE NUMBER
  local old_pid="$BATON_PID" old_port="$BATON_PORT" m0 m1
  others_snap "$WORK/ho.others0"
  m0="$(machine_cpu)"
  start_baton
  m1="$(machine_cpu)"
  others_snap "$WORK/ho.others1"
  [[ "$BATON_PORT" == "$old_port" ]] || die "generation $GEN listens on $BATON_PORT, not $old_port"
  wait_exit "$old_pid" 90
  echo "$2 $BATON_T0_NS $BATON_SERVING_NS $(now_us)000 $BATON_CPU_MS $(busy_pct "$m0" "$m1")" \
       "$(baton_phases "$WORK/baton-$GEN.out.err" "$BATON_T0_NS")" \
       "$(others_pct "$WORK/ho.others0" "$WORK/ho.others1" $(((BATON_SERVING_NS - BATON_T0_NS) / 1000)))" >>"$1"
}

# HAProxy 2.6 (Debian) for comparison: one process per generation, as Baton; a reload starts the next
# one with -x OLD_STATS_SOCKET (it takes the listening sockets over from the old process, which
# exposes them: `expose-fd listeners`) and -sf OLD_PID (then the old one finishes its connections and
# exits). "Serving" = its stats socket exists: HAProxy binds it with its listeners, just before it
# tells the old process to stop and enters its event loop; the socket's mtime gives the time.
HAP_GEN=0
start_haproxy() { # [OLD_SOCK OLD_PID]
  HAP_GEN=$((HAP_GEN + 1))
  local sock="$WORK/haproxy-$HAP_GEN.sock" args=() deadline=$((SECONDS + 30))
  if (($# == 2)); then args=(-x "$1" -sf "$2"); fi
  HAP_T0_NS="$(now_us)000"
  HAP_SOCK="$sock" haproxy -f "$WORK/haproxy.cfg" "${args[@]}" >"$WORK/haproxy-$HAP_GEN.out" 2>&1 &
  HAP_PID=$!
  PIDS+=("$HAP_PID")
  until [[ -S "$sock" ]]; do
    kill -0 "$HAP_PID" 2>/dev/null || die "haproxy generation $HAP_GEN exited: $(tail -5 "$WORK/haproxy-$HAP_GEN.out")"
    ((SECONDS < deadline)) || die "haproxy generation $HAP_GEN did not open $sock within 30 s"
    sleep 0.005
  done
  HAP_CPU_MS="$(cpu_ms "$HAP_PID")"
  HAP_SERVING_NS="$(stat -c %.9Y "$sock" | tr -d .)"
  HAP_MS=$(((HAP_SERVING_NS - HAP_T0_NS) / 1000000))
  log "haproxy generation $HAP_GEN pid $HAP_PID serving after $HAP_MS ms"
}
handoff_haproxy() { # FILE NUMBER
  local old_pid="$HAP_PID" old_sock="$WORK/haproxy-$HAP_GEN.sock" m0 m1
  others_snap "$WORK/ho.others0"
  m0="$(machine_cpu)"
  start_haproxy "$old_sock" "$old_pid"
  m1="$(machine_cpu)"
  others_snap "$WORK/ho.others1"
  wait_exit "$old_pid" 90
  echo "$2 $HAP_T0_NS $HAP_SERVING_NS $(now_us)000 $HAP_CPU_MS $(busy_pct "$m0" "$m1") - - - -" \
       "$(others_pct "$WORK/ho.others0" "$WORK/ho.others1" $(((HAP_SERVING_NS - HAP_T0_NS) / 1000)))" >>"$1"
}

# --- one load run --------------------------------------------------------------------------------
# run_load NAME MODE PORT KIND(none|baton|haproxy) SECONDS -> $WORK/run-NAME.{res,err,tl,gaps,ho,busy}
# With KIND baton/haproxy, handoff i starts HANDOFF_INTERVAL*i s after the load started, or as soon as
# the previous one is over (new one serving, old one exited) if that took longer; handoffs that would
# start after the load's end are left out and said so.
run_load() {
  local name="$1" mode="$2" port="$3" kind="$4" secs="$5" f="$WORK/run-$1" shape=(-c "$CONNS") t0 target now i m0 lpid
  [[ "$mode" == h2c ]] && shape=(-c "$H2_CONNS" -s "$H2_STREAMS")
  : >"$f.ho"
  others_snap "$f.others0"
  m0="$(machine_cpu)"
  "$LOADGEN" -p "$port" -m "$mode" "${shape[@]}" -d "$secs" -T "$f.tl" -G "$f.gaps" -g 5 >"$f.res" 2>"$f.err" &
  lpid=$!
  PIDS+=("$lpid")
  t0="$(now_us)"
  if [[ "$kind" != none ]]; then
    for i in $(seq 1 "$HANDOFFS"); do
      target=$((t0 + i * INTERVAL_US))
      now="$(now_us)"
      if ((now < target)); then sleep "$(awk -v d=$((target - now)) 'BEGIN { printf "%.3f", d / 1e6 }')"; fi
      if ! kill -0 "$lpid" 2>/dev/null || (($(now_us) >= t0 + $(us_of "$secs"))); then
        log "$name: the load ended before handoff $i could start (the handoffs before it took too long)"
        echo "$i - - - - - - - - - -" >>"$f.ho"
        break
      fi
      "handoff_$kind" "$f.ho" "$i"
    done
  fi
  wait_exit "$lpid" $((${secs%.*} + 60))
  busy_pct "$m0" "$(machine_cpu)" >"$f.busy"
  others_snap "$f.others1"
  others_pct "$f.others0" "$f.others1" $(($(now_us) - t0)) >"$f.others"
  grep -q '^loadgen ' "$f.res" || die "$name: the load generator printed no result: $(tail -5 "$f.err")"
  log "$name: $(grep '^loadgen [a-z0-9]*:' "$f.err" | tail -1)"
}

field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" "$WORK/run-$2.res"; }

# --- the runs ------------------------------------------------------------------------------------
log "idle: $IDLE_HANDOFFS handoffs with no load"
: >"$WORK/idle-baton.ho"
for i in $(seq 1 "$IDLE_HANDOFFS"); do
  sleep 1
  handoff_baton "$WORK/idle-baton.ho" "$i"
done

port_of() { # SHAPE TARGET
  case "$2/$1" in
    baton/h2c) echo "$BATON_H2_PORT" ;; baton/*) echo "$BATON_PORT" ;;
    haproxy/h2c) echo "$HAP_H2_PORT" ;; haproxy/*) echo "$HAP_PORT" ;;
  esac
}
RUNS=() # "target shape round"
run_pairs() { # TARGET
  local t="$1" s r
  for s in $SHAPES; do
    for r in $(seq 1 "$ROUNDS"); do
      # A warm-up first: the process serving now may be a fresh generation (the last handoff of the
      # previous run); the no-handoff run measures a warm one, as in production.
      run_load "$t-$s-$r-warm" "$s" "$(port_of "$s" "$t")" none "$WARMUP"
      run_load "$t-$s-$r-base" "$s" "$(port_of "$s" "$t")" none "$DURATION"
      run_load "$t-$s-$r-ho" "$s" "$(port_of "$s" "$t")" "$t" "$DURATION"
      RUNS+=("$t $s $r")
    done
  done
}
run_pairs baton

if ((HAPROXY)); then
  HAP_PORT="$(free_port)"
  HAP_H2_PORT="$(free_port)"
  # Timeouts like Baton's defaults (connect 2 s, response 15 s, drain 30 s = hard-stop-after).
  cat >"$WORK/haproxy.cfg" <<CFG
global
  stats socket "\${HAP_SOCK}" mode 600 level admin expose-fd listeners
  maxconn 9000
  hard-stop-after 30s
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 15s
  timeout http-keep-alive 60s
frontend web
  bind 127.0.0.1:$HAP_PORT
  default_backend app
frontend web-h2
  bind 127.0.0.1:$HAP_H2_PORT proto h2
  default_backend app-h2
backend app
  server nginx 127.0.0.1:$NGINX_PORT
backend app-h2
  server nginx 127.0.0.1:$NGINX_H2_PORT proto h2
CFG
  start_haproxy
  HAP_COLD_MS="$HAP_MS"
  log "idle: $IDLE_HANDOFFS HAProxy reloads with no load"
  : >"$WORK/idle-haproxy.ho"
  for i in $(seq 1 "$IDLE_HANDOFFS"); do
    sleep 1
    handoff_haproxy "$WORK/idle-haproxy.ho" "$i"
  done
  run_pairs haproxy
fi
LOAD_AFTER="$(machine_load "after")"

# --- report --------------------------------------------------------------------------------------
STAMP="$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT_DIR/handoff-$STAMP"
REPORT="$OUT_DIR/handoff-$STAMP.md"

# start -> serving of a .ho file: "max / median (n)" in ms
serving_stats() {
  awk '$3 != "-" { print int(($3 - $2) / 1e6) }' "$1" | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit } m = NR % 2 ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2);
    printf "%d / %d (%d)", v[NR], m, NR }'
}
serving_max() { awk 'BEGIN { m = 0 } $3 != "-" { d = int(($3 - $2) / 1e6); if (d > m) m = d } END { print m }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# median per-100-ms response count of a run (its first DURATION s)
bucket_median() {
  awk -v n="$(us_of "$DURATION")" '$1 * 1000 < n { print $2 }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}
check() { awk -v v="$1" -v lim="$2" -v op="$3" 'BEGIN { ok = (op == "le") ? (v <= lim) : (v >= lim); printf "%s %s", v, ok ? "met" : "**not met**" }'; }

# per_handoff NAME BASE_MEDIAN: a row per handoff of the run (see the header printed with it)
per_handoff() {
  local f="$WORK/run-$1"
  awk -v t0="$(field t0_epoch_ms "$1")" -v med="$2" -v tl="$f.tl" -v gaps="$f.gaps" '
    BEGIN { while ((getline l < tl) > 0) { split(l, a, " "); cnt[a[1]] = a[2] }
            ng = 0; while ((getline l < gaps) > 0) { split(l, a, " "); ng++; gs[ng] = a[1]; gl[ng] = a[2] } }
    { n[NR] = $1; st[NR] = $2; sv[NR] = $3; ex[NR] = $4; cpu[NR] = $5; busy[NR] = $6; p1[NR] = $7; p2[NR] = $8; p3[NR] = $9; p4[NR] = $10; oth[NR] = $11 }
    END {
      for (i = 1; i <= NR; i++) {
        if (sv[i] == "-") { printf "| %d | (not started: the load had ended) | | | | | | | |\n", n[i]; continue }
        s = st[i] / 1e6 - t0; v = sv[i] / 1e6 - t0; x = ex[i] / 1e6 - t0
        hi = (x > v ? x : v) + 1000; if (i < NR && st[i + 1] != "-" && st[i + 1] / 1e6 - t0 < hi) hi = st[i + 1] / 1e6 - t0
        lo = -1; for (b = int(s / 100) * 100; b < hi; b += 100) if (b in cnt && (lo < 0 || cnt[b] < lo)) lo = cnt[b]
        g = 0; ga = 0; for (k = 1; k <= ng; k++) if (gs[k] >= s - 100 && gs[k] < hi && gl[k] > g) { g = gl[k]; ga = gs[k] - v }
        # (a conditional expression with ">" in a printf argument list is an output redirection to mawk)
        stall = "< 5"; if (g > 0) stall = sprintf("%.0f (%+.0f ms from serving)", g, ga)
        printf "| %d | %.1f | **%d** | %d | %s (%s) | %d | %s / %s / %s / %s | %d (%d) | %s |\n", n[i], s / 1000, v - s, cpu[i], busy[i], oth[i],
          x - v, p1[i], p2[i], p3[i], p4[i], lo, med, stall
      }
    }' "$f.ho"
}

# sparkline NAME BASE_MEDIAN: responses per 100 ms, scaled to the no-handoff run's median (█ = median
# or more, · = none), and a line marking each handoff's launch (^) and serving line (|)
sparkline() {
  local f="$WORK/run-$1"
  awk -v t0="$(field t0_epoch_ms "$1")" -v med="$2" -v nb="$(($(us_of "$DURATION") / 100000))" -v ho="$f.ho" '
    BEGIN { split("▁ ▂ ▃ ▄ ▅ ▆ ▇ █", ch, " ")
            while ((getline l < ho) > 0) { split(l, a, " "); if (a[3] == "-") continue
              mk[int((a[2] / 1e6 - t0) / 100)] = "^"; mk[int((a[3] / 1e6 - t0) / 100)] = "|" } }
    { c[int($1 / 100)] = $2 }
    END { for (i = 0; i < nb; i++) { v = c[i] + 0; if (v == 0) line = line "·"; else { lv = int(v / med * 8 + 0.999);
            if (lv > 8) lv = 8; if (lv < 1) lv = 1; line = line ch[lv] } ; m = m ((i in mk) ? mk[i] : " ") }
          print line; print m }' "$f.tl"
}

STATUS=0
for run in "${RUNS[@]}"; do
  read -r t s r <<<"$run"
  if [[ $t == baton ]] && (($(field failed "$t-$s-$r-base") + $(field failed "$t-$s-$r-ho") > 0)); then STATUS=1; fi
done
{
  echo "## Handoff under load (issue 14) $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Command: \`$(for k in DURATION ROUNDS WARMUP CONNS H2_CONNS H2_STREAMS HANDOFFS HANDOFF_INTERVAL IDLE_HANDOFFS HAPROXY; do printf '%s=%s ' "$k" "${!k}"; done)SHAPES=\"$SHAPES\" BATON_JAVA_OPTS=\"${BATON_JAVA_OPTS:-}\" BATON_CONFIG_EXTRA=\"${BATON_CONFIG_EXTRA:-}\" bench/handoff-bench.sh\`"
  echo
  machine_header
  echo "- load: bench/loadgen.c, closed loop on 127.0.0.1, $CONNS HTTP/1.1 connections (ka, close) or $H2_CONNS h2c connections x $H2_STREAMS streams;" \
       "${DURATION} s per run after a ${WARMUP} s warm-up; handoffs every $HANDOFF_INTERVAL s from the load's start"
  echo "$LOAD_BEFORE"
  echo "$LOAD_AFTER"
  echo
  echo "Served ratio and p99 ratio: the handoff run against the no-handoff run just before it (same target, same load)."
  echo "Longest stall: the longest interval of the run in which no request completed successfully on any connection."
  echo "Others' CPU: what processes not started by this bench used during the run, % of the machine (the load itself keeps"
  echo "both CPUs busy: a neighbour's share is taken from the system under test)."
  echo "Failed: connect errors, resets, closes before a full response, bad responses, non-2xx, timeouts (10 s), h2 streams"
  echo "lost or reset after the server may have processed them. Not failures (counted apart): a keep-alive connection"
  echo "the server ended with \`Connection: close\` (reconnected), h2 streams refused by GOAWAY/REFUSED_STREAM (sent again)."
  echo
  echo "| load | target | handoffs | requests served | served ratio | p99 ms | p99 ratio | longest stall ms | failed | start → serving ms, max / median (n) | others' CPU % |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  for run in "${RUNS[@]}"; do
    read -r t s r <<<"$run"
    b="$t-$s-$r-base"; h="$t-$s-$r-ho"
    label=$([[ $s == ka ]] && echo keep-alive || { [[ $s == close ]] && echo "Connection: close" || echo "h2c ($H2_CONNS x $H2_STREAMS)"; })
    tname=$([[ $t == baton ]] && echo Baton || echo "HAProxy -x")
    echo "| $label | $tname | 0 | $(field served "$b") | | $(field p99_ms "$b") | | $(field stall_ms "$b") | $(field failed "$b") | | $(cat "$WORK/run-$b.others") |"
    echo "| $label | $tname | $(awk '$3 != "-"' "$WORK/run-$h.ho" | wc -l) | $(field served "$h") | **$(ratio "$(field served "$h")" "$(field served "$b")")** |" \
         "$(field p99_ms "$h") | **$(ratio "$(field p99_ms "$h")" "$(field p99_ms "$b")")** | **$(field stall_ms "$h")** | **$(field failed "$h")** |" \
         "$(serving_stats "$WORK/run-$h.ho") | $(cat "$WORK/run-$h.others") |"
  done
  echo
  echo "Start → serving with no load: Baton cold start $COLD_MS ms; handoffs $(serving_stats "$WORK/idle-baton.ho")" \
       "$( ((HAPROXY)) && echo "; HAProxy cold start $HAP_COLD_MS ms, reloads $(serving_stats "$WORK/idle-haproxy.ho")")"
  echo
  echo "### Goals of issue 14 (Baton)"
  echo
  echo "| load | served ≥ 0.9x | p99 ≤ 1.2x | longest stall ≤ 50 ms | failed = 0 | start → serving ≤ 1000 ms loaded |"
  echo "|---|---|---|---|---|---|"
  for run in "${RUNS[@]}"; do
    read -r t s r <<<"$run"
    [[ $t == baton ]] || continue
    b="$t-$s-$r-base"; h="$t-$s-$r-ho"
    echo "| $s (round $r) | $(check "$(ratio "$(field served "$h")" "$(field served "$b")")" 0.9 ge) |" \
         "$(check "$(ratio "$(field p99_ms "$h")" "$(field p99_ms "$b")")" 1.2 le) | $(check "$(field stall_ms "$h")" 50 le) |" \
         "$(check "$(field failed "$h")" 0 le) | $(check "$(serving_max "$WORK/run-$h.ho")" 1000 le) |"
  done
  echo "| idle | | | | | start → serving ≤ 300 ms idle: $(check "$(serving_max "$WORK/idle-baton.ho")" 300 le) |"
  echo
  echo "### Each handoff"
  echo
  echo "Columns: at s = launch of the new process, in s after the load started; CPU ms = what the new process had used"
  echo "by its serving line; busy % = the whole machine (2 CPUs = 100 %) from launch to serving, ours and anyone else's"
  echo "(in brackets: the neighbours' share, i.e. processes not started by this bench);"
  echo "phases = ms after launch of the new process's first log line (JVM up, Baton's main running) / welcomed by the old"
  echo "one / listeners received / Ready sent; fewest = fewest responses in a 100 ms bucket from launch to 1 s after the old"
  echo "process exited (the no-handoff run's median per 100 ms); stall = the longest interval without a response in that window."
  echo
  for f in idle-baton $( ((HAPROXY)) && echo idle-haproxy); do
    echo "**${f/idle-/} with no load**"
    echo
    echo "| # | start → serving ms | CPU ms | busy % (others) | serving → old exit ms | phases ms |"
    echo "|---:|---:|---:|---:|---:|---|"
    awk '{ printf "| %d | **%d** | %d | %s (%s) | %d | %s / %s / %s / %s |\n", $1, ($3 - $2) / 1e6, $5, $6, $11, ($4 - $3) / 1e6, $7, $8, $9, $10 }' "$WORK/$f.ho"
    echo
  done
  for run in "${RUNS[@]}"; do
    read -r t s r <<<"$run"
    b="$t-$s-$r-base"; h="$t-$s-$r-ho"
    med="$(bucket_median "$WORK/run-$b.tl")"
    causes="$(for k in f_connect f_reset f_eof f_eof_idle f_bad f_status f_timeout f_lost f_rst f_unfinished; do
      v=$(field $k "$h"); [[ $v == 0 ]] || printf ' %s=%s' "$k" "$v"; done)"
    echo "**$t, $s, round $r** — served $(field served "$h") (no handoff: $(field served "$b")), failed $(field failed "$h")" \
         "${causes:+(${causes# }) }(first errors: bench/out/handoff-$STAMP/run-$h.err),"\
         "reconnects after Connection: close $(field server_closes "$h"), GOAWAYs $(field goaways "$h"), h2 streams sent again" \
         "$(( $(field refused_goaway "$h") + $(field refused_stream "$h") + $(field not_sent "$h") )), p50/p90/p99/p99.9/max" \
         "$(field p50_ms "$h")/$(field p90_ms "$h")/$(field p99_ms "$h")/$(field p999_ms "$h")/$(field max_ms "$h") ms" \
         "(no handoff: $(field p50_ms "$b")/$(field p90_ms "$b")/$(field p99_ms "$b")/$(field p999_ms "$b")/$(field max_ms "$b")), load generator CPU $(field cpu_s "$h") s"
    echo
    echo "| # | at s | start → serving ms | CPU ms | busy % (others) | serving → old exit ms | phases ms | fewest per 100 ms (median) | stall ms |"
    echo "|---:|---:|---:|---:|---:|---:|---|---:|---|"
    per_handoff "$h" "$med"
    echo
    echo '```'
    echo "responses per 100 ms, no handoff (█ = its median $med):"
    sparkline "$b" "$med" | head -1
    echo "with handoffs (^ launch of the new process, | its serving line):"
    sparkline "$h" "$med"
    echo '```'
    echo
  done
} | tee "$REPORT"
cp "$WORK"/run-*.{res,err,tl,gaps,ho} "$WORK"/idle-*.ho "$OUT_DIR/handoff-$STAMP/" 2>/dev/null || true
log "written $REPORT (timelines: $OUT_DIR/handoff-$STAMP/)"
if ((STATUS)); then log "FAIL: requests through Baton failed (see the table)"; fi
exit "$STATUS"
