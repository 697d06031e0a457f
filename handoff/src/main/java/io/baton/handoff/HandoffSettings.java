package io.baton.handoff;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How one process takes part in handoffs.
 *
 * @param runDir the directory of the control sockets, shared by consecutive generations
 * @param stepTimeout the longest wait for any one control message or connection
 * @param readyTimeout the longest the outgoing process waits, after sending the listeners, for
 *     its successor to build everything and say Ready
 * @param buildVersion the version of this binary, sent in Hello and Welcome
 * @param stepObserver told of each step of the incoming side; tests use it to pause at a step
 */
public record HandoffSettings(
    Path runDir,
    Duration stepTimeout,
    Duration readyTimeout,
    String buildVersion,
    IncomingStepObserver stepObserver) {

  public HandoffSettings {
    Objects.requireNonNull(runDir, "runDir");
    requirePositive("stepTimeout", stepTimeout);
    requirePositive("readyTimeout", readyTimeout);
    Objects.requireNonNull(buildVersion, "buildVersion");
    Objects.requireNonNull(stepObserver, "stepObserver");
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }
}
