package io.baton.handoff;

import java.util.concurrent.CompletionStage;

/** A drain in progress in the outgoing process. */
public interface Drain {

  DrainProgress progress();

  /** Completes when the last connection has closed, or the deadline closed what was left. */
  CompletionStage<DrainOutcome> completion();
}
