package io.baton.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.PassiveHealth.Outcome;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Time is a plain number of nanoseconds the test passes: no clock, no sleeps. */
class PassiveHealthTest {

  private static final long SECOND = 1_000_000_000L;
  private static final HostPort ADDRESS = new HostPort("127.0.0.1", 9000);

  private static PassiveHealth health(int maxFails, Duration failTimeout) {
    return new PassiveHealth(new Member(ADDRESS, 1, maxFails, failTimeout, false));
  }

  @Test
  void maxFailsFailuresWithinFailTimeoutMakeItFailedForFailTimeout() {
    PassiveHealth h = health(3, Duration.ofSeconds(10));
    assertThat(h.recordFailure(0)).isEqualTo(Outcome.COUNTED);
    assertThat(h.recordFailure(1 * SECOND)).isEqualTo(Outcome.COUNTED);
    assertThat(h.isFailed(1 * SECOND)).as("two of three").isFalse();
    assertThat(h.recordFailure(2 * SECOND)).isEqualTo(Outcome.NOW_FAILED);
    assertThat(h.isFailed(2 * SECOND)).isTrue();
    assertThat(h.isFailed(12 * SECOND - 1))
        .as("failTimeout counts from the failure that reached maxFails")
        .isTrue();
    assertThat(h.view(7 * SECOND)).isEqualTo(new PassiveHealth.View(3, true, 5 * SECOND));
    assertThat(h.isFailed(12 * SECOND)).isFalse();
    assertThat(h.view(12 * SECOND))
        .as("eligible again with a clean count")
        .isEqualTo(new PassiveHealth.View(0, false, 0));
  }

  @Test
  void failuresFurtherApartThanFailTimeoutDoNotAddUp() {
    PassiveHealth h = health(2, Duration.ofSeconds(10));
    assertThat(h.recordFailure(0)).isEqualTo(Outcome.COUNTED);
    // The window started at the first failure (t=0) and closed at t=10 s: this one opens a new
    // window.
    assertThat(h.recordFailure(10 * SECOND)).isEqualTo(Outcome.COUNTED);
    assertThat(h.view(10 * SECOND)).isEqualTo(new PassiveHealth.View(1, false, 0));
    assertThat(h.recordFailure(19 * SECOND)).isEqualTo(Outcome.NOW_FAILED);
  }

  @Test
  void successClearsTheCount() {
    PassiveHealth h = health(2, Duration.ofSeconds(10));
    h.recordFailure(0);
    h.recordSuccess();
    assertThat(h.isClean()).isTrue();
    assertThat(h.recordFailure(1 * SECOND)).as("counting starts again").isEqualTo(Outcome.COUNTED);
  }

  @Test
  void successEndsTheFailedTimeEarly() {
    PassiveHealth h = health(1, Duration.ofSeconds(10));
    assertThat(h.recordFailure(0)).isEqualTo(Outcome.NOW_FAILED);
    h.recordSuccess(); // a request that was in flight, or one sent while every member was FAILED
    assertThat(h.isFailed(1 * SECOND)).isFalse();
    assertThat(h.view(1 * SECOND)).isEqualTo(new PassiveHealth.View(0, false, 0));
  }

  @Test
  void maxFailsZeroNeverFails() {
    PassiveHealth h = health(0, Duration.ofSeconds(10));
    for (int i = 0; i < 100; i++) {
      assertThat(h.recordFailure(i)).isEqualTo(Outcome.IGNORED);
    }
    assertThat(h.isFailed(100)).isFalse();
    assertThat(h.isClean()).isTrue();
  }

  @Test
  void failureWhileFailedDoesNotProlongIt() {
    PassiveHealth h = health(1, Duration.ofSeconds(10));
    h.recordFailure(0);
    assertThat(h.recordFailure(5 * SECOND))
        .as("a request already in flight when it failed")
        .isEqualTo(Outcome.IGNORED);
    assertThat(h.isFailed(10 * SECOND)).isFalse();
  }

  @Test
  void afterItsFailedTimeMaxFailsNewFailuresAreNeededAgain() {
    PassiveHealth h = health(2, Duration.ofSeconds(10));
    h.recordFailure(0);
    assertThat(h.recordFailure(1 * SECOND)).isEqualTo(Outcome.NOW_FAILED);
    assertThat(h.recordFailure(11 * SECOND)).isEqualTo(Outcome.COUNTED);
    assertThat(h.isFailed(11 * SECOND)).isFalse();
    assertThat(h.recordFailure(12 * SECOND)).isEqualTo(Outcome.NOW_FAILED);
  }

  @Test
  void newParametersApplyToTheNextFailureAndKeepTheCount() {
    PassiveHealth h = health(3, Duration.ofSeconds(10));
    h.recordFailure(0);
    h.configure(new Member(ADDRESS, 5, 2, Duration.ofSeconds(30), false));
    assertThat(h.recordFailure(1 * SECOND)).isEqualTo(Outcome.NOW_FAILED);
    assertThat(h.isFailed(30 * SECOND)).as("failed for the new failTimeout").isTrue();
    assertThat(h.isFailed(31 * SECOND)).isFalse();
  }

  @Test
  void monotonicTimeMayBeNegative() {
    // System.nanoTime has an arbitrary origin: only differences count.
    PassiveHealth h = health(1, Duration.ofSeconds(10));
    long t = Long.MAX_VALUE - 5 * SECOND;
    assertThat(h.recordFailure(t)).isEqualTo(Outcome.NOW_FAILED);
    assertThat(h.isFailed(t + 9 * SECOND)).as("across the overflow of nanoTime").isTrue();
    assertThat(h.isFailed(t + 10 * SECOND)).isFalse();
  }

  @Test
  void aHugeFailTimeoutDoesNotOverflow() {
    PassiveHealth h = health(1, Duration.ofSeconds(Long.MAX_VALUE));
    assertThat(h.recordFailure(0)).isEqualTo(Outcome.NOW_FAILED);
    assertThat(h.isFailed(Long.MAX_VALUE / 8)).isTrue();
  }
}
