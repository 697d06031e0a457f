package io.baton.handoff;

import java.util.concurrent.CompletionStage;

/** A drain in progress in the outgoing process. */
public interface Drain {

  DrainProgress progress();

  /** Completes when the last connection has closed, or the deadline closed what was left. */
  CompletionStage<DrainOutcome> completion();

  /**
   * When the drain's deadline passes (unix millis), 0 if it has none: sent to the successor
   * (Draining.deadline_unix_millis), which waits at most that long (plus the step timeout) for this
   * process's final counters once it has handed over in turn.
   */
  default long deadlineUnixMillis() {
    return 0;
  }
}
