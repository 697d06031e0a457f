/**
 * What starts the next generation from inside a running one: {@code SIGUSR2} (the same command line
 * again, nginx's binary upgrade) and {@code SIGHUP} (the same, after checking that the config file
 * still loads: a config reload is a handoff). {@code SIGTERM}/{@code SIGINT} drain and stop.
 *
 * <p>Invariants: at most one next generation is starting at a time; a request that cannot start one
 * (an invalid config, a handoff already under way) changes nothing and is logged and counted; the
 * process that was started takes over through the run directory like any other new process, so
 * everything the handoff guarantees holds whatever triggered it.
 */
package io.baton.sidecar.upgrade;
