package io.baton.sidecar.upstream;

import java.time.Duration;

/**
 * What the traffic says about one member, nginx's passive health ({@code max_fails}, {@code
 * fail_timeout}): {@code maxFails} failures within {@code failTimeout}, counted from the first of
 * them, make the member FAILED for {@code failTimeout}; after that it is eligible again with a
 * clean count. A success clears the count and a FAILED mark (the member answered, whatever the
 * count said). {@code maxFails} 0 never fails it.
 *
 * <p>Time is whatever {@code now} the caller passes (the cluster's {@code nanoTime}), so tests
 * drive it. Safe from any thread: the counts are guarded by this object; a member with no failures
 * is recognised by one volatile read, so the success of every response and every pick costs no
 * lock. A failure reported while the member is FAILED (a request that was already in flight)
 * changes nothing.
 */
final class PassiveHealth {

  /** What {@link #recordFailure} did. */
  enum Outcome {
    /** maxFails is 0, or the member was already FAILED. */
    IGNORED,
    /** Counted; the member stays eligible. */
    COUNTED,
    /** This failure reached maxFails: the member is FAILED from now for failTimeout. */
    NOW_FAILED
  }

  private static final Duration FOREVER = Duration.ofDays(36_500);

  private volatile int maxFails;
  private volatile long failTimeoutNanos;

  /**
   * No failure counted and not FAILED: the fast path of {@link #recordSuccess} and {@link
   * #isFailed}.
   */
  private volatile boolean clean = true;

  private int failures;
  private long windowStart;
  private boolean failed;
  private long failedUntil;

  PassiveHealth(Member member) {
    configure(member);
  }

  /** Takes the member's current maxFails and failTimeout; the counts so far stay. */
  void configure(Member member) {
    maxFails = member.maxFails();
    failTimeoutNanos = saturatedNanos(member.failTimeout());
  }

  Outcome recordFailure(long now) {
    int max = maxFails;
    if (max == 0) {
      return Outcome.IGNORED;
    }
    long timeout = failTimeoutNanos;
    synchronized (this) {
      if (failed) {
        if (now - failedUntil < 0) {
          return Outcome.IGNORED;
        }
        failed = false; // served its time: counting starts afresh
        failures = 0;
      }
      if (failures == 0 || now - windowStart >= timeout) {
        windowStart = now;
        failures = 1;
      } else {
        failures++;
      }
      clean = false;
      if (failures < max) {
        return Outcome.COUNTED;
      }
      failed = true;
      failedUntil = now + timeout;
      return Outcome.NOW_FAILED;
    }
  }

  void recordSuccess() {
    if (clean) {
      return;
    }
    synchronized (this) {
      failures = 0;
      failed = false;
      clean = true;
    }
  }

  boolean isFailed(long now) {
    if (clean) {
      return false;
    }
    synchronized (this) {
      return failed && now - failedUntil < 0;
    }
  }

  /**
   * Whether anything was counted at all: when false, {@link #isFailed} is false whatever the time,
   * so a pick reads no clock.
   */
  boolean isClean() {
    return clean;
  }

  /** The count and FAILED mark as of {@code now}. */
  synchronized View view(long now) {
    if (failed) {
      return now - failedUntil < 0
          ? new View(failures, true, failedUntil - now)
          : new View(0, false, 0);
    }
    boolean windowOpen = failures > 0 && now - windowStart < failTimeoutNanos;
    return new View(windowOpen ? failures : 0, false, 0);
  }

  /**
   * @param failures failures counted in the current window (0 once it has passed)
   * @param failed whether the member is skipped now
   * @param remainingNanos how long it stays FAILED; 0 when not failed
   */
  record View(int failures, boolean failed, long remainingNanos) {}

  private static long saturatedNanos(Duration d) {
    // Capped so that now + failTimeout cannot overflow: a century is "for ever" here.
    return d.compareTo(FOREVER) >= 0 ? FOREVER.toNanos() : d.toNanos();
  }
}
