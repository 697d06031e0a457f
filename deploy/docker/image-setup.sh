#!/bin/sh
# The shell steps of Baton's image, shared by deploy/docker/Dockerfile (images from a registry's
# base) and deploy/docker/Containerfile.local (deploy/docker/build-local.sh: images built from
# this machine alone), so that both files describe one image. Run as root, from a bind mount of
# deploy/docker:
#   image-setup.sh user        the fixed non-root user (runtime and empty images)
#   image-setup.sh startup-cache
#                              trains the start-up cache as that user (`baton startup-cache`,
#                              bin/baton-startup-cache) and installs it root-owned, read-only, in
#                              one layer, where bin/baton looks for it (BATON_CACHE_DIR)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# A fixed uid: both slots of a pod must run as the same one (the active process hands over only
# to a peer with its own uid), and the manifests name it (runAsUser: 10001).
uid=10001
cache_dir=/opt/baton/aot

case "${1:-}" in
  user)
    groupadd --system --gid "$uid" baton
    useradd --system --uid "$uid" --gid "$uid" --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin baton
    ;;
  startup-cache)
    # The cache is valid only for the JVM build that wrote it and the jar at the same path with
    # the same size and mtime: trained here, in the final image, on /opt/baton/baton.jar. bin/baton
    # names it after both, and finds it by that name in BATON_CACHE_DIR.
    # The training runs as the runtime user (as every generation will), but the cache is kept
    # root-owned and read-only: a process that could rewrite it could change what the next
    # generation runs. Written to a scratch directory and installed in the same step, so the
    # image holds the cache once (a chown in a later layer would copy it).
    work=$(mktemp -d)
    chown "$uid:$uid" "$work"
    # The training's test upstream and load (`baton test-upstream`, `baton h2-load`) are the test
    # kit's, which the build mounts at /tmp/testkit for this step only.
    setpriv --reuid="$uid" --regid="$uid" --clear-groups env BATON_CACHE_DIR="$work" BATON_JAR=/opt/baton/baton.jar \
      BATON_TESTKIT_JAR=/tmp/testkit/baton-testkit.jar /usr/local/bin/baton startup-cache
    install -d -o 0 -g 0 -m 0755 "$cache_dir"
    install -o 0 -g 0 -m 0444 "$work"/baton-*.aot "$cache_dir"/
    rm -rf "$work"
    ;;
  *)
    echo "usage: image-setup.sh user|startup-cache (got: '${1:-}')" >&2
    exit 2
    ;;
esac
