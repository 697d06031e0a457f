#!/usr/bin/env bash
# Installs and configures what building and running Baton's container images on this machine needs
# (deploy/docker/build-local.sh, it-tests' ContainerImageTest): podman as root with the runc
# runtime, and debootstrap for the base image (no image registry is reachable: every image is
# built here from Debian packages). Idempotent; needs root. Run by scripts/install-test-deps.sh.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-container-deps: needs root (apt-get install, /etc/containers); run it as root" >&2
  exit 1
fi

need=()
command -v podman >/dev/null || need+=(podman)
# runc, not crun: crun refuses this machine kind's hybrid cgroup v1 layout.
command -v runc >/dev/null || need+=(runc)
# conmon monitors each container; podman depends on it, named here so a half-removed install heals.
command -v conmon >/dev/null || need+=(conmon)
# catatonit is the init of the pause image `podman pod create` builds locally (no k8s.gcr.io here).
[ -x /usr/libexec/podman/catatonit ] || command -v catatonit >/dev/null || need+=(catatonit)
# netavark is podman's network stack (a pod's network namespace, published ports), and it programs
# published ports with iptables, which podman only suggests.
[ -x /usr/lib/podman/netavark ] || need+=(netavark)
command -v iptables >/dev/null || need+=(iptables)
# debootstrap + the archive keyring: the base image is a Debian minbase root file system.
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-container-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# A container's default rlimits must not exceed this machine's hard limits: runc cannot raise a
# hard limit here, and podman's default (nofile 1048576) makes every container fail to start.
# Soft = hard = the host's hard limit, capped where a higher number buys nothing.
hard_limit() {
  local value=$1 cap=$2
  if [ "$value" = unlimited ] || [ "$value" -gt "$cap" ]; then echo "$cap"; else echo "$value"; fi
}
nofile=$(hard_limit "$(ulimit -Hn)" 65536)
# nproc counts every thread of a uid on the whole host (containers share the host's uids), so
# stay well under a limit other processes of uid 10001 may also need; 4096 threads is ample for
# a Baton generation or two.
nproc=$(hard_limit "$(ulimit -Hu)" 4096)

dropin=/etc/containers/containers.conf.d/50-baton.conf
content="# Written by Baton's scripts/install-container-deps.sh; rewritten on each run.
[containers]
# Under this machine's hard limits (ulimit -Hn $(ulimit -Hn), ulimit -Hu $(ulimit -Hu)).
default_ulimits = [
  \"nofile=$nofile:$nofile\",
  \"nproc=$nproc:$nproc\",
]

[engine]
# crun refuses this machine kind's hybrid cgroup v1 layout; runc works.
runtime = \"runc\"
"
mkdir -p "$(dirname "$dropin")"
if [ ! -f "$dropin" ] || [ "$(cat "$dropin")" != "${content%$'\n'}" ]; then
  printf '%s' "$content" > "$dropin"
  echo "install-container-deps: wrote $dropin (runc; nofile $nofile, nproc $nproc)"
fi

# Not installable from a registry reachable here: the JDK 25 whose jlink makes the image's
# runtime. Said now rather than at the first image build.
jdk=${BATON_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$jdk/bin/jlink" ]; then
  echo "install-container-deps: warning: no JDK 25 at $jdk (set BATON_JDK25); deploy/docker/build-local.sh needs its jlink" >&2
fi
