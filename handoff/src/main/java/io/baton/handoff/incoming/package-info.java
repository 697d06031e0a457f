/**
 * The incoming side of a handoff: a new process taking the baton from the active one.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>{@link io.baton.handoff.incoming.IncomingHandoff} alone owns the {@link
 *       io.baton.handoff.incoming.IncomingState} and makes every move of it; the classes of each
 *       role (Hello/Welcome, listen.sock, conn.sock, the drain follower, the chain of draining
 *       predecessors, HandedOn) do I/O and translation and report back, and at most read the state
 *       through a supplier they are given.
 *   <li>reconfig.sock stays connected from Hello until the predecessor has drained or exited: its
 *       EOF is how each side learns the other is gone.
 *   <li>listen.sock exists only between Welcome and ListenersReceived, and only one incoming side
 *       at a time binds it (the active process admits one successor).
 *   <li>Every line this side logs goes to the {@code IncomingHandoff} logger.
 * </ul>
 */
package io.baton.handoff.incoming;
