package io.baton.sidecar.discovery.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdReconnectBackoffTest {

  @Test
  void doublesFromTheInitialDelayUpToTheMaximum() {
    EtcdReconnectBackoff backoff =
        new EtcdReconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.5);
    assertThat(millis(backoff, 9))
        .containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 5000L, 5000L, 5000L);
  }

  @Test
  void jitterSpreadsEachDelayByTwentyPercentEitherWay() {
    assertThat(
            millis(
                new EtcdReconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.0),
                2))
        .containsExactly(80L, 160L);
    assertThat(
            millis(
                new EtcdReconnectBackoff(
                    Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.999_999),
                2))
        .containsExactly(119L, 239L);
  }

  @Test
  void resetStartsOverAtTheInitialDelay() {
    EtcdReconnectBackoff backoff =
        new EtcdReconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), () -> 0.5);
    millis(backoff, 4);
    backoff.reset();
    assertThat(backoff.next()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void badArgumentsAreNamedWithTheExpectedRange() {
    assertThatThrownBy(
            () -> new EtcdReconnectBackoff(Duration.ZERO, Duration.ofSeconds(5), () -> 0.5))
        .hasMessage("initial: PT0S (expected: > 0)");
    assertThatThrownBy(
            () -> new EtcdReconnectBackoff(Duration.ofSeconds(1), Duration.ofMillis(5), () -> 0.5))
        .hasMessage("max: PT0.005S (expected: >= initial PT1S)");
  }

  private static List<Long> millis(EtcdReconnectBackoff backoff, int n) {
    List<Long> delays = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      delays.add(backoff.next().toMillis());
    }
    return delays;
  }
}
