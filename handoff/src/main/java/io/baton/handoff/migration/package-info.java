/**
 * Live connections moving from the outgoing process to its successor over {@code conn.sock}: the
 * {@link io.baton.handoff.migration.ConnectionSender} of the outgoing side streams them (one frame
 * each, fds attached, never waiting for an answer, so that 10,000 move in well under a second); the
 * {@link io.baton.handoff.migration.ConnectionReceiver} of the incoming side hands each to the
 * application as it arrives.
 */
package io.baton.handoff.migration;
