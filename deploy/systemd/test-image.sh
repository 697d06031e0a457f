#!/usr/bin/env bash
# Builds (once) the local image in which it-tests' SystemdPid1Test runs a real systemd as PID 1:
# Debian bookworm minbase with systemd and Debian's Java 17, nothing of Baton (the test installs
# the jar, config and unit files into each container the way deploy/systemd/README.md says).
# Prints the image name on its last line of stdout. Needs root, podman and debootstrap
# (scripts/install-container-deps.sh).
#
# No image registry is reachable here, so the image comes from debootstrap + `podman import`
# (about a minute with a Debian mirror at hand). The tag carries a hash of this script: an image
# made by an older version of it is rebuilt rather than reused, and removed once the new one
# exists. Concurrent callers (two test runs) build it once: the second waits on a lock.
set -euo pipefail

repo=localhost/baton-systemd-test
tag=bookworm-$(sha256sum "$0" | cut -c1-12)
image=$repo:$tag
mirror=${BATON_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then
  echo "test-image.sh: needs root (debootstrap, podman as root with runc); uid is $(id -u)" >&2
  exit 1
fi
for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || {
    echo "test-image.sh: $tool is not on the PATH (expected: installed by scripts/install-container-deps.sh)" >&2
    exit 1
  }
done

exec 9>/var/tmp/baton-systemd-test-image.lock
flock --timeout 600 9 || { echo "test-image.sh: another build held the lock for 10 minutes" >&2; exit 1; }

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

work=$(mktemp -d /var/tmp/baton-systemd-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT

# systemd-sysv: /sbin/init is systemd, what `podman run --systemd=always IMAGE /sbin/init` boots.
# openjdk-17-jre-headless: the /usr/bin/java baton.service runs, as a Debian user would install it.
# No dbus: systemctl as root talks to systemd over /run/systemd/private.
echo "test-image.sh: debootstrap bookworm from $mirror into $work" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,openjdk-17-jre-headless \
  bookworm "$work/rootfs" "$mirror" >&2

# A container has no consoles or hardware to set up; these only slow the boot or fail in it.
chroot "$work/rootfs" systemctl mask --quiet \
  systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
  getty@tty1.service console-getty.service >&2
# apt's caches and the package lists are not needed to run anything; they are a third of the tree.
rm -rf "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/lib/apt/lists/"*

echo "test-image.sh: importing $image" >&2
tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' - "$image" >&2

# Images of older versions of this script: nothing uses them once this one exists.
podman images --format '{{.Repository}}:{{.Tag}}' | grep "^$repo:" | grep -v "^$image\$" \
  | xargs -r podman rmi --force >&2 || true

echo "$image"
