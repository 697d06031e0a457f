/**
 * {@code baton launch}: a small supervisor meant to be PID 1 of a container. It runs each
 * generation as its own child, so the container outlives generation 1, and it reaps them.
 *
 * <p>Invariants: every generation of a supervised run directory is a child of the supervisor (a
 * generation asked to upgrade asks the supervisor, through {@link Supervisor#PID_VARIABLE}, instead
 * of starting one itself); at most {@code handoff.maxDraining} + 1 generations run at once (the
 * active one, or one taking over from it, and the older ones still draining; the handoff itself
 * refuses a second taker-over and one beyond the limit); the supervisor exits with the exit code of
 * its last generation, except with {@code --standby}, where a generation that handed over to a
 * process outside it leaves it idle.
 */
package io.baton.sidecar.launch;
