#!/usr/bin/env bash
# Builds Baton's container images from what this machine can reach (Debian's mirror; no image
# registry), with podman:
#   localhost/baton-base:bookworm  Debian bookworm minbase (debootstrap), built once and reused
#   TAG          (localhost/baton:dev)        the Baton image: deploy/docker/Containerfile.local
#   TAG-empty    (localhost/baton:dev-empty)  the OpenKruise hot-upgrade empty image
#   TAG-testkit  (localhost/baton:dev-testkit) the Baton image plus the test kit, for tests
# Usage, from anywhere (as root: podman here runs as root, debootstrap needs it):
#   deploy/docker/build-local.sh [--tag TAG] [--rebuild-base] [--jdk DIR] [--mirror URL]
# Needs what scripts/install-container-deps.sh installs, and a JDK 25 (--jdk, $BATON_JDK25, or
# /usr/lib/jvm/temurin-25-jdk-amd64) whose jlink makes the image's Java runtime.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
tag=localhost/baton:dev
base=localhost/baton-base:bookworm
rebuild_base=false
jdk=${BATON_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
mirror=http://deb.debian.org/debian

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "build-local: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || die "--tag needs a value (e.g. localhost/baton:dev)"; tag=$2; shift 2 ;;
    --rebuild-base) rebuild_base=true; shift ;;
    --jdk) [ $# -ge 2 ] || die "--jdk needs a directory (a JDK 25)"; jdk=$2; shift 2 ;;
    --mirror) [ $# -ge 2 ] || die "--mirror needs a Debian mirror URL"; mirror=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
case "$tag" in
  *:*) empty_tag=$tag-empty; testkit_tag=$tag-testkit ;;
  *) die "--tag '$tag': expected NAME:TAG (e.g. localhost/baton:dev); the empty and test kit images are NAME:TAG-empty and NAME:TAG-testkit" ;;
esac

# Everything missing is said at once, with where it comes from.
missing=()
[ "$(id -u)" -eq 0 ] || missing+=("root (podman is set up for root here; debootstrap needs it)")
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool (scripts/install-container-deps.sh installs it)")
done
[ -f /etc/containers/containers.conf.d/50-baton.conf ] \
  || missing+=("/etc/containers/containers.conf.d/50-baton.conf: runc and ulimits under the hard limits (scripts/install-container-deps.sh writes it)")
for tool in jdeps jlink java; do
  [ -x "$jdk/bin/$tool" ] || missing+=("$jdk/bin/$tool (a JDK 25: --jdk DIR or \$BATON_JDK25)")
done
if [ -x "$jdk/bin/java" ]; then
  major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release" 2>/dev/null || true)
  [ "$major" = 25 ] || missing+=("$jdk is JDK '${major:-unknown}', expected 25 (the AOT cache and the Dockerfile's JRE are 25)")
fi
command -v mvn >/dev/null || { [ -f "$repo/sidecar/target/baton.jar" ] && [ -f "$repo/testkit-cli/target/baton-testkit.jar" ]; } \
  || missing+=("mvn, to build sidecar/target/baton.jar and testkit-cli/target/baton-testkit.jar (scripts/install-test-deps.sh installs maven)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'build-local: missing: %s\n' "${missing[@]}" >&2
  exit 1
fi

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/var/tmp}/baton-build-local.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Every step has a deadline: a hung mirror, build or podman fails the build instead of CI.
bounded() {
  local seconds=$1; shift
  local rc=0
  timeout --kill-after=10 "$seconds" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then die "timed out after ${seconds}s: $*"; fi
  return "$rc"
}

jar=$repo/sidecar/target/baton.jar
testkit=$repo/testkit-cli/target/baton-testkit.jar
if [ ! -f "$jar" ] || [ ! -f "$testkit" ]; then
  echo "build-local: no $jar or $testkit; building them (mvn -q -B -DskipTests package)"
  (cd "$repo" && bounded 900 mvn -q -B -DskipTests package) || die "mvn package failed: no $jar or $testkit"
  [ -f "$jar" ] && [ -f "$testkit" ] || die "mvn package succeeded but left no $jar or $testkit"
fi

# The base: a Debian bookworm minbase root file system, trimmed like Debian's own slim images
# (apt lists and .debs, docs but their copyright files, man pages, translations), imported as an
# image. About a minute, so kept: only --rebuild-base (or its absence) builds it again.
if [ "$rebuild_base" = true ] || ! podman image exists "$base"; then
  t=$SECONDS
  old_base=$(podman image inspect --format '{{.Id}}' "$base" 2>/dev/null || true)
  echo "build-local: building $base (debootstrap --variant=minbase bookworm from $mirror)"
  rootfs=$work/rootfs
  bounded 900 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap of bookworm from $mirror failed (log above)"; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  # The same paths stay out of whatever a derived image installs with apt later.
  cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
  tar -C "$rootfs" -c . | bounded 300 podman import --quiet \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/bash"]' \
      --message "debootstrap --variant=minbase bookworm $mirror (deploy/docker/build-local.sh)" \
      - "$base" > /dev/null || die "podman import of the bookworm root file system as $base failed"
  rm -rf "$rootfs"
  echo "build-local: $base built in $((SECONDS - t)) s"
else
  echo "build-local: reusing $base (--rebuild-base builds it again)"
fi

# The build context: the repository's files the Containerfile names, at their repository paths,
# and the Java runtime. A staged directory rather than the repository: podman would otherwise
# walk every target/ and .git.
ctx=$work/context
mkdir -p "$ctx/sidecar/target" "$ctx/testkit-cli/target" "$ctx/bin" "$ctx/deploy"
cp -p "$jar" "$ctx/sidecar/target/baton.jar"
cp -p "$testkit" "$ctx/testkit-cli/target/baton-testkit.jar"
cp -p "$repo/bin/baton" "$repo/bin/baton-startup-cache" "$ctx/bin/"
cp -rp "$repo/deploy/docker" "$ctx/deploy/docker"

# The runtime: the modules the jars' classes refer to (jdeps; the test kit's too, which the cache's
# training runs), less java.desktop (only optional
# parts of Jackson, SnakeYAML and Micrometer refer to java.beans, and Baton uses none of them; it
# would add the AWT libraries), plus what is only loaded by name at run time. Checked by really
# running TLS, h2c, handoffs and the admin gRPC API in the image (it-tests ContainerImageTest).
t=$SECONDS
found=$(bounded 300 "$jdk/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$jar" "$testkit") \
  || die "jdeps on $jar and $testkit failed"
modules=$(printf '%s\n' "${found//,/$'\n'}" jdk.unsupported | grep -vx 'java.desktop' | sort -u | paste -sd, -)
bounded 300 "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=zip-6 --output "$ctx/jre" || die "jlink of $modules from $jdk failed"
echo "build-local: jlinked runtime ($modules) in $((SECONDS - t)) s"

image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# A rebuild leaves the image it replaced untagged; removed below, or every build would keep
# another 200 MB.
replaced=()
t=$SECONDS
for target in runtime empty testkit; do
  image=$tag
  [ "$target" = empty ] && image=$empty_tag
  [ "$target" = testkit ] && image=$testkit_tag
  old=$(image_id "$image")
  # --network none: the AOT training's fixed loopback ports stay inside the build container, and
  # nothing reaches out. --pull never: every image is local. The label names the checkout the
  # image came from: several checkouts on one machine share podman's images.
  bounded 900 podman build --pull=never --network none --layers \
      --build-arg "BASE_IMAGE=$base" -f "$ctx/deploy/docker/Containerfile.local" --target "$target" \
      --label "io.baton.checkout=$repo" -t "$image" "$ctx" > "$work/build-$target.log" 2>&1 \
    || { tail -n 40 "$work/build-$target.log" >&2; die "podman build --target $target -t $image failed (log above)"; }
  if [ -n "$old" ] && [ "$old" != "$(image_id "$image")" ]; then replaced+=("$old"); fi
done
[ -n "${old_base:-}" ] && [ "$old_base" != "$(image_id "$base")" ] && replaced+=("$old_base")
for id in "${replaced[@]}"; do
  # Only if no name is left on it: `podman rmi ID` would also remove every other tag of that image
  # (identical builds under two tags share one id). A container still using it keeps it.
  [ "$(podman image inspect --format '{{len .RepoTags}}' "$id" 2>/dev/null || echo gone)" = 0 ] || continue
  bounded 120 podman rmi "$id" > /dev/null 2>&1 || echo "build-local: kept the replaced image $id (still in use)"
done
grep -h '^baton startup-cache: made' "$work/build-runtime.log" || true
echo "build-local: images built in $((SECONDS - t)) s"

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
size() { podman image inspect --format '{{.Size}}' "$1"; }
jre_bytes=$(du -sb "$ctx/jre" | cut -f1)
aot_bytes=$(bounded 60 podman run --rm --pull=never --network none --entrypoint sh "$tag" -c 'stat -c %s /opt/baton/aot/baton-*.aot') \
  || die "$tag has no readable start-up cache /opt/baton/aot/baton-*.aot"
echo "build-local: sizes (uncompressed, as podman images counts them):"
echo "  $base  $(mb "$(size "$base")")"
echo "  $tag  $(mb "$(size "$tag")")  (jlinked runtime $(mb "$jre_bytes"), AOT cache $(mb "$aot_bytes"), jar $(mb "$(stat -c %s "$jar")"))"
echo "  $empty_tag  $(mb "$(size "$empty_tag")")"
echo "  $testkit_tag  $(mb "$(size "$testkit_tag")")  (test kit $(mb "$(stat -c %s "$testkit")"))"
echo "build-local: done in $((SECONDS - start)) s"
