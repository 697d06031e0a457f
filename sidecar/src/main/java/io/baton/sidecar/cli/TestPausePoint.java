package io.baton.sidecar.cli;

import io.baton.handoff.IncomingStep;
import io.baton.handoff.IncomingStepObserver;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A test-only switch: with {@code BATON_TEST_PAUSE_AT=welcomed|listeners_received}, an incoming
 * process stops at that handoff step forever, so a test can kill it exactly there. Unset in
 * production, where it costs nothing.
 */
final class TestPausePoint implements IncomingStepObserver {

  static final String ENV = "BATON_TEST_PAUSE_AT";
  private static final Logger log = LoggerFactory.getLogger(TestPausePoint.class);

  private final IncomingStep pauseAt;

  private TestPausePoint(IncomingStep pauseAt) {
    this.pauseAt = pauseAt;
  }

  static IncomingStepObserver fromEnvironment() {
    String value = System.getenv(ENV);
    if (value == null || value.isBlank()) {
      return IncomingStepObserver.NONE;
    }
    try {
      return new TestPausePoint(IncomingStep.valueOf(value.trim().toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(ENV + ": \"" + value + "\" (expected welcomed, listeners_received or ready_sent)");
    }
  }

  @Override
  public void reached(IncomingStep step) {
    if (step != pauseAt) {
      return;
    }
    log.warn("paused at handoff step {} ({} is set; this process waits here until it is killed)", step, ENV);
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
