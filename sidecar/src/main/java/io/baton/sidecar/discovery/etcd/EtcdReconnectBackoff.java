package io.baton.sidecar.discovery.etcd;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * The delay before the next connection attempt: doubling from an initial delay to a maximum, each
 * delay spread by ±20% so that many sidecars that lost the same etcd do not come back in step. Not
 * thread-safe; the watch uses it on its own thread.
 */
final class EtcdReconnectBackoff {

  static final Duration INITIAL = Duration.ofMillis(100);
  static final Duration MAX = Duration.ofSeconds(5);
  private static final double JITTER = 0.2;

  private final long initialNanos;
  private final long maxNanos;
  private final DoubleSupplier random;
  private long nextNanos;

  /**
   * @param random uniform in [0, 1)
   */
  EtcdReconnectBackoff(Duration initial, Duration max, DoubleSupplier random) {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("initial: " + initial + " (expected: > 0)");
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max: " + max + " (expected: >= initial " + initial + ")");
    }
    this.initialNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
    this.nextNanos = initialNanos;
  }

  Duration next() {
    long base = nextNanos;
    nextNanos = Math.min(maxNanos, base * 2);
    double spread = 1 + JITTER * (2 * random.getAsDouble() - 1);
    return Duration.ofNanos((long) (base * spread));
  }

  /** After a success: the next failure is retried after the initial delay again. */
  void reset() {
    nextNanos = initialNanos;
  }
}
