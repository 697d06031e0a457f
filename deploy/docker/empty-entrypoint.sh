#!/bin/sh
# The OpenKruise hot-upgrade empty image: takes the same arguments as the Baton image, does
# nothing, exits 0 on SIGTERM (as PID 1 a shell ignores signals it has no trap for, which would
# make every pod deletion wait out its grace period).
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $!
done
