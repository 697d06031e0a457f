package io.baton.sidecar.drain;

import java.time.Duration;

/** Runs a task after a delay; tests drive it by hand instead of waiting. */
@FunctionalInterface
public interface DeadlineScheduler {

  /** Schedules {@code task}; the returned handle cancels it. */
  Cancellable schedule(Runnable task, Duration delay);

  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }
}
