package io.baton.handoff.incoming;

import io.baton.handoff.DrainProgress;
import io.baton.handoff.PredecessorDrain;
import io.baton.proto.handoff.v1.DrainFinished;
import java.time.Duration;
import java.util.List;

/**
 * The predecessor's reports on its drain (Draining, DrainProgress, DrainFinished), in the library's
 * own types; the outgoing side's {@code OutgoingMessages} writes them.
 */
final class DrainReports {

  private DrainReports() {}

  static DrainProgress progress(io.baton.proto.handoff.v1.DrainProgress wire) {
    return new DrainProgress(
        wire.getConnectionsActive(), wire.getRequestsActive(), wire.getConnectionsMigrated());
  }

  /** The older generations a predecessor relays, in its order (newest first). */
  static List<PredecessorDrain> olderGenerations(
      List<io.baton.proto.handoff.v1.PredecessorDrain> wire) {
    return wire.stream()
        .map(
            p ->
                new PredecessorDrain(
                    p.getGeneration(),
                    p.getPid(),
                    new DrainProgress(
                        p.getConnectionsActive(),
                        p.getRequestsActive(),
                        p.getConnectionsMigrated())))
        .toList();
  }

  /** drain_seconds is a double on the wire; nanoseconds are enough for any drain. */
  static Duration took(DrainFinished finished) {
    return Duration.ofNanos((long) (finished.getDrainSeconds() * 1e9));
  }
}
