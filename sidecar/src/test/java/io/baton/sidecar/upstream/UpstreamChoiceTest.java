package io.baton.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.BatonMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** One request's choice of members, on a real cluster with a fake clock: no sockets. */
class UpstreamChoiceTest {

  private static final HostPort A = new HostPort("10.0.0.1", 80);
  private static final HostPort B = new HostPort("10.0.0.2", 80);
  private static final HostPort C = new HostPort("10.0.0.3", 80);

  private final AtomicLong nanos = new AtomicLong(1);
  private final BatonMetrics metrics = new BatonMetrics();

  private Cluster cluster(HostPort... endpoints) {
    ClusterConfig config =
        new ClusterConfig(
            "backend",
            List.of(endpoints),
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            Duration.ofSeconds(60));
    return new Cluster(
        config,
        metrics.cluster("backend"),
        nanos::get,
        Clock.fixed(Instant.parse("2026-12-07T10:00:00Z"), ZoneOffset.UTC));
  }

  @Test
  void eachUnreachableMemberIsTriedOnceThenNoneIsLeft() {
    UpstreamChoice choice = new UpstreamChoice(cluster(A, B, C));
    assertThat(choice.first()).contains(A);
    choice.markUnreachable();
    HostPort second = choice.nextReachable().orElseThrow();
    assertThat(second).isNotEqualTo(A);
    choice.retryOn(second);
    choice.markUnreachable();
    HostPort third = choice.nextReachable().orElseThrow();
    assertThat(third).as("the one member not yet tried").isNotIn(A, second);
    choice.retryOn(third);
    choice.markUnreachable();
    assertThat(choice.nextReachable()).as("every member unreachable for this request").isEmpty();
    assertThat(choice.current()).isEqualTo(third);
  }

  @Test
  void aRefusalMayGoToAnyMemberTheRefusingOneIncluded() {
    UpstreamChoice choice = new UpstreamChoice(cluster(A));
    assertThat(choice.first()).contains(A);
    assertThat(choice.nextAny())
        .as("a refused stream may go to the same member on a new connection")
        .contains(A);
    choice.markUnreachable();
    assertThat(choice.nextReachable()).as("an unreachable one is not tried again").isEmpty();
  }

  @Test
  void anEmptyClusterHasNoFirstMember() {
    UpstreamChoice choice = new UpstreamChoice(cluster());
    assertThat(choice.first()).isEqualTo(Optional.empty());
    assertThat(choice.current()).isNull();
  }

  @Test
  void failuresAndSuccessesCountForTheCurrentMember() {
    Cluster cluster = cluster(A, B);
    UpstreamChoice choice = new UpstreamChoice(cluster);
    HostPort first = choice.first().orElseThrow();
    choice.recordFailure();
    // maxFails 1 (nginx's default): one failure makes the member FAILED until failTimeout.
    assertThat(stateOf(cluster, first)).isEqualTo(MemberStatus.State.FAILED);
    choice.recordSuccess();
    assertThat(stateOf(cluster, first)).isNotEqualTo(MemberStatus.State.FAILED);
  }

  private static MemberStatus.State stateOf(Cluster cluster, HostPort address) {
    return cluster.memberStatuses().stream()
        .filter(s -> s.member().address().equals(address))
        .findFirst()
        .orElseThrow()
        .state();
  }
}
