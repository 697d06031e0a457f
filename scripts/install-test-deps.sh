#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine. Idempotent; needs root for apt.
set -euo pipefail

need=()
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
# setpriv (util-linux) runs a probe as uid "nobody" for the peer-uid refusal test; unshare (also
# util-linux) runs each generation in pid and user namespaces of its own (NamespaceHandoffTest).
command -v setpriv >/dev/null || need+=(util-linux)
command -v unshare >/dev/null || need+=(util-linux)
# prometheus + promtool: the deploy tests check the alert rules and scrape Baton across handoffs.
# The package's postinst starts a prometheus service where systemd runs; the tests start their own.
command -v promtool >/dev/null || need+=(prometheus)
# systemd-socket-activate hands Baton its listener as systemd socket activation would (SystemdTest).
command -v systemd-socket-activate >/dev/null || need+=(systemd)
# etcd (server) and etcdctl: the etcd discovery tests run a real single-member etcd (EtcdProcess).
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
# openssl: the TLS tests make their certificates at test time and resume sessions with s_client.
command -v openssl >/dev/null || need+=(openssl)
# h2load (nghttp2-client): bench/h2-bench.sh measures h2c throughput through Baton with it.
command -v h2load >/dev/null || need+=(nghttp2-client)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# podman (runc), debootstrap and their config: ContainerImageTest builds and runs the real image.
"$(dirname "$0")/install-container-deps.sh"
