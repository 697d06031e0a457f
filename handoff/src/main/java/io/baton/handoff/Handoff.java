package io.baton.handoff;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The facade of one process's part in handoffs: incoming for generation N (it took over from its
 * predecessor), outgoing for N+1 (it serves {@code reconfig.sock} and hands over to its successor).
 *
 * <p>Use, in this order:
 *
 * <ol>
 *   <li>{@link #open} checks the run directory (creates it 0700; refuses one writable by group or
 *       others or owned by another uid).
 *   <li>{@link #arrive} connects to {@code reconfig.sock}: a {@link Arrival.ColdStart} when there
 *       is no active process (no socket, or a stale one, which is removed); else a full handoff up
 *       to the received listener fds ({@link Arrival.Takeover}). Nothing accepts on them yet.
 *   <li>The application builds everything it needs to serve, registers its channels (it accepts
 *       from now on) and calls {@link #serve}: on a takeover this says Ready, waits for the
 *       predecessor to stop accepting, and atomically renames this process's control socket over
 *       {@code reconfig.sock}; on a cold start it just publishes the socket. From then on it serves
 *       {@code reconfig.sock} on a daemon thread with {@code source}.
 *   <li>Or, if it cannot get ready, {@link #abort} tells the predecessor, which serves on.
 * </ol>
 */
public final class Handoff implements AutoCloseable {

  private Handoff() {}

  public static Handoff open(HandoffSettings settings, HandoffEvents events) throws HandoffException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  public Arrival arrive() throws HandoffException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  public void serve(HandoffSource source) throws HandoffException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  public void abort(String reason) {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /**
   * Completes when a successor has taken over and this process's drain has finished (the
   * predecessor of that successor may now exit).
   */
  public CompletableFuture<DrainOutcome> successorTookOver() {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** While this process's predecessor drains: its last reported progress. */
  public Optional<DrainProgress> predecessorProgress() {
    throw new UnsupportedOperationException("not implemented yet");
  }

  @Override
  public void close() {}
}
