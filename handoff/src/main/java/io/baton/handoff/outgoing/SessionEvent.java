package io.baton.handoff.outgoing;

import io.baton.handoff.DrainOutcome;
import io.baton.handoff.os.OsException;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.proto.handoff.v1.Envelope;
import java.util.concurrent.CompletableFuture;

/**
 * What happens to a session, posted to its {@link SessionInbox} by whichever thread saw it and
 * applied by the session's own thread only.
 */
sealed interface SessionEvent {

  /**
   * A frame arrived on reconfig.sock (fds that came with it are already closed: none belongs
   * there).
   */
  record FrameArrived(Envelope envelope) implements SessionEvent {}

  /** EOF on reconfig.sock: the peer exited or died. */
  record PeerClosed() implements SessionEvent {}

  /** Reading reconfig.sock failed other than by EOF, e.g. ECONNRESET: the peer is gone too. */
  record ReadFailed(OsException error) implements SessionEvent {}

  /** Bytes on reconfig.sock that are not a frame of this protocol. */
  record Garbage(ControlProtocolException error) implements SessionEvent {}

  /** Time to stream the drain progress to the successor. */
  record ProgressTick() implements SessionEvent {}

  /** This process's own connections are done (or the drain failed). */
  record OwnDrainEnded(DrainOutcome outcome, Throwable error) implements SessionEvent {}

  /**
   * The older generations that drained behind this one are gone ({@code finished}), or one outlived
   * its drain deadline plus the step timeout.
   */
  record PredecessorsGone(boolean finished) implements SessionEvent {}

  /**
   * The operator ends a hold: a commit (this process drains) or an abort (the successor does).
   * {@code accepted} completes with whether a hold was there to end.
   */
  record HoldDecision(boolean commit, String reason, CompletableFuture<Boolean> accepted)
      implements SessionEvent {}
}
