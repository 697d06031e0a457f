#!/usr/bin/env bash
# Baton discovery bench: how long a member change committed to etcd takes to be applied, as seen on
# Baton's GET /clusters (put -> listed, delete -> gone). 127.0.0.1 only; bounded; kills only the
# processes it started. See bench/RESULTS.md.
#
# Usage: bench/discovery-bench.sh       (expects sidecar/target/baton.jar, etcd and etcdctl)
# Knobs (environment): ROUNDS=20
set -euo pipefail

BENCH_NAME=discovery-bench
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
ROUNDS="${ROUNDS:-20}"
PREFIX=/baton/clusters/app/

for tool in etcd etcdctl curl python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (scripts/install-test-deps.sh installs etcd and etcdctl)"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

CLIENT_PORT="$(free_port)"
PEER_PORT="$(free_port)"
etcd --name bench --data-dir "$WORK/etcd" \
  --listen-client-urls "http://127.0.0.1:$CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "bench=http://127.0.0.1:$PEER_PORT" >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)
export ETCDCTL_API=3
ETCDCTL=(etcdctl --endpoints "127.0.0.1:$CLIENT_PORT")
for _ in $(seq 100); do "${ETCDCTL[@]}" endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
"${ETCDCTL[@]}" endpoint health >/dev/null 2>&1 || die "etcd did not start (see $WORK/etcd.log)"
"${ETCDCTL[@]}" put "${PREFIX}127.0.0.1:1" '' >/dev/null

cat >"$WORK/baton.yaml" <<YAML
runDir: $WORK/run
admin:
  address: "127.0.0.1:0"
listeners:
  - name: web
    address: "127.0.0.1:0"
    protocol: http
    cluster: app
clusters:
  - name: app
    discovery:
      etcd:
        endpoints: ["127.0.0.1:$CLIENT_PORT"]
        prefix: $PREFIX
YAML
"${JAVA[@]}" -jar "$JAR" run --config "$WORK/baton.yaml" >"$WORK/baton.out" 2>"$WORK/baton.err" &
PIDS+=($!)
BATON=$!
for _ in $(seq 600); do grep -q '^baton serving ' "$WORK/baton.out" 2>/dev/null && break; kill -0 "$BATON" || die "baton exited"; sleep 0.05; done
ADMIN="$(grep -m1 '^baton serving ' "$WORK/baton.out" | sed -E 's/.* admin=([^ ]+).*/\1/')"
[[ -n "$ADMIN" ]] || die "no serving line from Baton (see $WORK/baton.err)"

listed() { curl -fsS "http://$ADMIN/clusters" | grep -q "\"address\" : \"$1\""; }
wait_until() { # CONDITION... ; prints elapsed ms since $START
  local deadline=$((SECONDS + 10))
  while (( SECONDS < deadline )); do
    if "$@"; then echo $(( $(now_ms) - START )); return 0; fi
  done
  die "not within 10 s: $*"
}
not_listed() { ! listed "$1"; }

ADD=()
DEL=()
for i in $(seq "$ROUNDS"); do
  member="127.0.0.1:$((20000 + i))"
  "${ETCDCTL[@]}" put "$PREFIX$member" '{"weight":2}' >/dev/null; START="$(now_ms)"
  ADD+=("$(wait_until listed "$member")")
  "${ETCDCTL[@]}" del "$PREFIX$member" >/dev/null; START="$(now_ms)"
  DEL+=("$(wait_until not_listed "$member")")
done

summary() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "median %d ms, p90 %d ms, max %d ms (n=%d)", a[int((NR+1)/2)], a[int(NR*0.9+0.5)], a[NR], NR}'; }
echo "put committed -> listed in /clusters:  $(summary "${ADD[@]}")"
echo "delete committed -> gone from /clusters: $(summary "${DEL[@]}")"
echo "(from etcdctl's exit, i.e. the write committed, to the first /clusters answer that shows it; curl polls back to back)"
