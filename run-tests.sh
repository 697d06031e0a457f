#!/usr/bin/env bash
# Runs every test: unit tests of each module, then the process-level tests in it-tests/, which
# start the packaged sidecar/target/baton.jar as real processes.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-test-deps.sh
mvn -B verify "$@"
