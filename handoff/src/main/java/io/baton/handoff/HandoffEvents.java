package io.baton.handoff;

import java.time.Duration;
import java.util.List;

/** What the handoff library reports to the application (metrics). Called from handoff threads. */
public interface HandoffEvents {
  HandoffEvents NONE = new HandoffEvents() {};

  /** A step of either side completed; {@code phase} is a stable snake_case name. */
  default void phaseCompleted(String phase, Duration took) {}

  /** An attempt ended, on the outgoing side. */
  default void handoffEnded(HandoffResult result, String detail) {}

  /**
   * The predecessor stopped accepting (incoming side), before {@code process.Handoff.serve}
   * returns: {@code counters} are its counters at that moment, to be added as far as they grew
   * since {@link Arrival.Takeover#counters()}.
   */
  default void predecessorStoppedAccepting(List<CarriedCounter> counters) {}

  /** The predecessor reported its drain progress (incoming side). */
  default void predecessorProgress(DrainProgress progress) {}

  /**
   * Every older generation that still drains, newest first (incoming side): the predecessor and
   * those it relays. Reported with each progress report, and once with an empty list when the
   * predecessor is gone.
   */
  default void predecessorsDraining(List<PredecessorDrain> chain) {}

  /**
   * This draining process was told by its successor that it will never be the active process again
   * (outgoing side): the successor handed over in turn, or stops for good. No rollback from now on;
   * this process drains on to its own deadline.
   */
  default void handedOn(String detail) {}

  /**
   * The predecessor finished its drain (incoming side): {@code finalCounters} are its counters at
   * the end, to be added as far as they grew since they were last reported.
   */
  default void predecessorDrained(
      List<CarriedCounter> finalCounters, long connectionsMigrated, Duration drainTook) {}

  /** The predecessor stopped sending live connections (incoming side): how many and how long. */
  default void migrationEnded(long connectionsReceived, Duration took) {}
}
