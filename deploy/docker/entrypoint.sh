#!/bin/sh
# The container's entrypoint: marks when this container started, then becomes `baton` (the JVM is
# PID 1, or `baton launch` is, which supervises the generations). The pod's postStart hook waits
# until the run directory's reconfig.sock is newer than this marker, i.e. until the process this
# container started serves, and only then lets the kubelet call the container started.
set -eu
: > /tmp/baton-container-started
exec /usr/local/bin/baton "$@"
