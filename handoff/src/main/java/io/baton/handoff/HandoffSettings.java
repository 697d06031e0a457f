package io.baton.handoff;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How one process takes part in handoffs.
 *
 * @param runDir the directory of the control sockets, shared by consecutive generations
 * @param stepTimeout the longest wait for any one control message or connection
 * @param readyTimeout the longest the outgoing process waits, after sending the listeners, for its
 *     successor to build everything and say Ready
 * @param buildVersion the version of this binary, sent in Hello and Welcome
 * @param stepObserver told of each step of the incoming side; tests use it to pause at a step
 * @param hold whether this process, taking over, asks to be held after Ready, and for how long at
 *     most; as the outgoing process, how long it holds a successor that asks
 * @param maxDraining how many generations may drain at once behind the active one: this process
 *     hands over only while fewer than this many older generations still drain (it would be one
 *     more). 1 means never while its predecessor drains (as before chained drains).
 */
public record HandoffSettings(
    Path runDir,
    Duration stepTimeout,
    Duration readyTimeout,
    String buildVersion,
    IncomingStepObserver stepObserver,
    Hold hold,
    int maxDraining) {

  /**
   * Enough for a long stream to outlive three handoffs (generations 1, 2 and 3 drain while 4
   * serves), few enough that a reload loop cannot pile up JVMs: each draining one holds its heap.
   */
  public static final int DEFAULT_MAX_DRAINING = 3;

  /**
   * Holding after Ready, as after nginx's USR2: both generations accept until a commit or an abort.
   *
   * @param requested whether this process asks to be held when it takes over
   * @param timeout the longest a hold lasts; then the handoff is aborted (the old process serves
   *     on)
   */
  public record Hold(boolean requested, Duration timeout) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);
    public static final Hold NONE = new Hold(false, DEFAULT_TIMEOUT);

    public Hold {
      requirePositive("hold.timeout", timeout);
    }
  }

  public HandoffSettings {
    Objects.requireNonNull(runDir, "runDir");
    requirePositive("stepTimeout", stepTimeout);
    requirePositive("readyTimeout", readyTimeout);
    Objects.requireNonNull(buildVersion, "buildVersion");
    Objects.requireNonNull(stepObserver, "stepObserver");
    Objects.requireNonNull(hold, "hold");
    if (maxDraining < 1) {
      throw new IllegalArgumentException("maxDraining: " + maxDraining + " (expected: >= 1)");
    }
  }

  /** With the default {@link #DEFAULT_MAX_DRAINING}. */
  public HandoffSettings(
      Path runDir,
      Duration stepTimeout,
      Duration readyTimeout,
      String buildVersion,
      IncomingStepObserver stepObserver,
      Hold hold) {
    this(runDir, stepTimeout, readyTimeout, buildVersion, stepObserver, hold, DEFAULT_MAX_DRAINING);
  }

  /** Without hold. */
  public HandoffSettings(
      Path runDir,
      Duration stepTimeout,
      Duration readyTimeout,
      String buildVersion,
      IncomingStepObserver stepObserver) {
    this(
        runDir,
        stepTimeout,
        readyTimeout,
        buildVersion,
        stepObserver,
        Hold.NONE,
        DEFAULT_MAX_DRAINING);
  }

  private static void requirePositive(String name, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
    }
  }
}
