package io.baton.handoff.incoming;

import io.baton.handoff.HandoffException;
import io.baton.handoff.os.OsException;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Envelope;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Follows the predecessor's drain on a daemon thread of its own: reads reconfig.sock until
 * DrainFinished or EOF (the predecessor exited), passing each report to {@link
 * DrainingPredecessors}. Either way it then closes reconfig.sock and says the predecessor is done:
 * the connection held open until here is how each side saw the other alive.
 */
final class DrainFollower {

  /** After Draining the predecessor only streams progress; this bounds each wait, not the drain. */
  static final Duration WAKEUP = Duration.ofMinutes(1);

  private final ControlChannel channel;
  private final DrainingPredecessors predecessors;
  private final IncomingReport report;
  private final BooleanSupplier closed;
  private final Runnable predecessorDone;

  /**
   * @param closed whether this side has closed: then a failed read is the close, not news
   * @param predecessorDone runs once the follower ends, whatever ended it
   */
  DrainFollower(
      ControlChannel channel,
      DrainingPredecessors predecessors,
      IncomingReport report,
      BooleanSupplier closed,
      Runnable predecessorDone) {
    this.channel = channel;
    this.predecessors = predecessors;
    this.report = report;
    this.closed = closed;
    this.predecessorDone = predecessorDone;
  }

  void start() {
    HandoffThreads.start("follow-predecessor", this::run);
  }

  private void run() {
    try {
      while (!closed.getAsBoolean()) {
        ReceivedFrame frame;
        try {
          frame = channel.receive(WAKEUP);
        } catch (OsException e) {
          if (e.isTimeout()) {
            continue;
          }
          throw e;
        }
        frame.closeFds();
        Envelope envelope = frame.envelope();
        switch (envelope.getBodyCase()) {
          case DRAIN_PROGRESS -> predecessors.progressed(envelope.getDrainProgress());
          case DRAIN_FINISHED -> {
            predecessors.drained(envelope.getDrainFinished());
            return;
          }
          default -> report.ignoringWhileFollowing(envelope.getBodyCase(), channel.path());
        }
      }
    } catch (PeerClosedException e) {
      report.predecessorExited(channel.path());
    } catch (HandoffException e) {
      if (!closed.getAsBoolean()) {
        report.lostTheDrain(channel.path(), e.getMessage());
      }
    } finally {
      channel.close();
      predecessorDone.run();
    }
  }
}
