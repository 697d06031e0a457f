/**
 * Live connections moving from the outgoing process to its successor over {@code conn.sock}: the
 * {@link io.baton.handoff.migration.ConnectionSender} of the outgoing side streams them (one frame
 * each, fds attached, never waiting for an answer, so that 10,000 move in well under a second); the
 * {@link io.baton.handoff.migration.ConnectionReceiver} of the incoming side hands each to the
 * application as it arrives.
 *
 * <p>Ownership (protocol revision 3, described in {@code handoff.proto}): the sender keeps a copy
 * of each connection ({@code RetainedConnections}) until the receiver's {@code
 * OwnershipConfirmations} says the successor owns it, which it does just before the connection's
 * state first changes there. Invariant: a connection is served by one process at a time; a copy
 * that is never confirmed was never touched by the successor, so the sender may serve it again once
 * the successor is gone and conn.sock reached EOF.
 */
package io.baton.handoff.migration;
