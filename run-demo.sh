#!/usr/bin/env bash
# Builds Baton and runs the demo: an upstream, Baton in front of it, a bounded load, and several
# handoffs to new processes during the load; prints a table per generation.
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B -DskipTests package
exec java -jar sidecar/target/baton.jar demo "$@"
