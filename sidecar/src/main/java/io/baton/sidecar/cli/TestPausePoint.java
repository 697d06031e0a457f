package io.baton.sidecar.cli;

import io.baton.handoff.IncomingStep;
import io.baton.handoff.IncomingStepObserver;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A test-only switch: with {@code BATON_TEST_PAUSE_AT=welcomed|listeners_received|ready_sent}, an
 * incoming process stops at that handoff step forever, so a test can kill it exactly there; with
 * {@code connection_received:N} it stops after taking over N live connections (the predecessor's
 * sends then back up in conn.sock). Unset in production, where it costs nothing.
 */
final class TestPausePoint implements IncomingStepObserver {

  static final String ENV = "BATON_TEST_PAUSE_AT";
  private static final Logger log = LoggerFactory.getLogger(TestPausePoint.class);

  private final IncomingStep pauseAt;
  private final long occurrence;
  private final AtomicLong reached = new AtomicLong();

  private TestPausePoint(IncomingStep pauseAt, long occurrence) {
    this.pauseAt = pauseAt;
    this.occurrence = occurrence;
  }

  static IncomingStepObserver fromEnvironment() {
    String value = System.getenv(ENV);
    if (value == null || value.isBlank()) {
      return IncomingStepObserver.NONE;
    }
    String[] parts = value.trim().split(":", 2);
    try {
      long occurrence = parts.length == 2 ? Long.parseLong(parts[1]) : 1;
      if (occurrence < 1) {
        throw new IllegalArgumentException("occurrence " + occurrence);
      }
      return new TestPausePoint(
          IncomingStep.valueOf(parts[0].toUpperCase(Locale.ROOT)), occurrence);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          ENV
              + ": \""
              + value
              + "\" (expected welcomed, listeners_received, ready_sent or connection_received,"
              + " optionally :N with N >= 1)");
    }
  }

  @Override
  public void reached(IncomingStep step) {
    if (step != pauseAt || reached.incrementAndGet() != occurrence) {
      return;
    }
    log.warn(
        "paused at handoff step {} (occurrence {}; {} is set; this process waits here until it is"
            + " killed)",
        step,
        occurrence,
        ENV);
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
