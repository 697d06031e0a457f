package io.baton.handoff.outgoing;

import io.baton.handoff.os.OsException;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.state.StateMachine;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.proto.handoff.v1.Envelope;
import java.time.Duration;
import java.util.Set;

/**
 * A session while {@link SessionState#HELD}: the successor said Ready and both processes accept,
 * until the operator commits (this process drains), or the hold ends without one: the operator
 * aborts, the hold timeout passes, or the successor gives up (Abort, EOF). Nothing waits in a loop:
 * each of these arrives at the session as an event, and {@link #decide} says what it means.
 */
final class Hold {

  /** What an event means for a hold. */
  sealed interface Outcome {
    /**
     * The hold goes on (a frame that means nothing here, or the operator's decision was not for
     * us).
     */
    record Stays() implements Outcome {}

    /** The successor takes over: this process stops accepting and drains. */
    record Commit(String reason) implements Outcome {}

    /** The hold ends without a commit; {@code tellSuccessor}: it has not said so itself. */
    record Abort(String reason, boolean tellSuccessor) implements Outcome {}
  }

  private static final Outcome STAYS = new Outcome.Stays();

  private final Set<String> adoptedListeners;
  private final Duration limit;
  private final StateMachine<SessionState> machine;
  private final ControlChannel channel;
  private final RunDirectory runDir;
  private final SessionReport report;

  Hold(
      Set<String> adoptedListeners,
      Duration limit,
      StateMachine<SessionState> machine,
      ControlChannel channel,
      RunDirectory runDir,
      SessionReport report) {
    this.adoptedListeners = Set.copyOf(adoptedListeners);
    this.limit = limit;
    this.machine = machine;
    this.channel = channel;
    this.runDir = runDir;
    this.report = report;
  }

  /** The listeners the successor accepts on: this process stops accepting on those at a commit. */
  Set<String> adoptedListeners() {
    return adoptedListeners;
  }

  /** The longest the hold lasts. */
  Duration limit() {
    return limit;
  }

  void begin() {
    machine.moveTo(SessionState.HELD);
    report.step(
        "held",
        "both generations accept until a commit (baton commit, SIGWINCH) or an abort (baton abort),"
            + " at most "
            + limit);
  }

  /** The hold timeout passed without a commit. */
  Outcome timedOut() {
    return new Outcome.Abort("no commit within the hold timeout, " + limit, true);
  }

  /** What {@code event} means while held. Changes nothing: the session carries the outcome out. */
  Outcome decide(SessionEvent event) {
    if (event instanceof SessionEvent.HoldDecision decision) {
      return decision.commit()
          ? new Outcome.Commit(decision.reason())
          : new Outcome.Abort(decision.reason(), true);
    }
    if (event instanceof SessionEvent.FrameArrived frame) {
      Envelope envelope = frame.envelope();
      if (envelope.getBodyCase() == Envelope.BodyCase.ABORT) {
        return new Outcome.Abort(
            "the successor gave up: " + envelope.getAbort().getReason(), false);
      }
      report.ignoring(envelope.getBodyCase(), SessionState.HELD, "nothing, or Abort");
      return STAYS;
    }
    if (event instanceof SessionEvent.PeerClosed) {
      return new Outcome.Abort(
          "the successor closed reconfig.sock while held (it stopped or died)", false);
    }
    if (event instanceof SessionEvent.ReadFailed failed) {
      return new Outcome.Abort(
          "reconfig.sock connection to the successor failed while held: "
              + failed.error().getMessage(),
          false);
    }
    if (event instanceof SessionEvent.Garbage garbage) {
      return new Outcome.Abort(
          "garbage from the successor while held: " + garbage.error().getMessage(), true);
    }
    return STAYS;
  }

  /**
   * HELD to ABORTED: this process never stopped accepting, so nothing changes here; the successor
   * drains and exits.
   */
  void abort(String reason, boolean tellSuccessor) {
    machine.moveTo(SessionState.ABORTED);
    if (tellSuccessor) {
      try {
        channel.send(OutgoingMessages.abort(reason));
      } catch (OsException | ControlProtocolException e) {
        report.notDelivered("Abort", e.getMessage());
      }
    }
    channel.close();
    runDir.removeQuietly(runDir.listenSocket());
    runDir.removeQuietly(runDir.connSocket());
    report.abortedWhileHeld(reason);
  }
}
