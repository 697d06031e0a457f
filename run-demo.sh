#!/usr/bin/env bash
# Builds Baton and runs the demo: an upstream, Baton in front of it, a bounded load, and several
# handoffs to new processes during the load; prints a table per generation.
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B -DskipTests package
# Once per build and JVM (~15 s): the start-up cache every generation then starts from (bin/baton).
bin/baton startup-cache
# bin/baton sizes the JVM for a sidecar; the demo starts each generation with the same options.
exec bin/baton demo "$@"
