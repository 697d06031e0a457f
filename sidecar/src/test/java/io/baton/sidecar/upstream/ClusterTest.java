package io.baton.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.BatonMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The cluster's choice and member changes, on a fake clock: no sockets, no sleeps. */
class ClusterTest {

  private static final HostPort A = new HostPort("10.0.0.1", 80);
  private static final HostPort B = new HostPort("10.0.0.2", 80);
  private static final HostPort C = new HostPort("10.0.0.3", 80);
  private static final Instant WALL = Instant.parse("2026-11-25T10:00:00Z");

  private final AtomicLong nanos = new AtomicLong(123_456_789L);
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
        config, metrics.cluster("backend"), nanos::get, Clock.fixed(WALL, ZoneOffset.UTC));
  }

  private static Member member(HostPort address, int weight) {
    return new Member(address, weight, 1, Duration.ofSeconds(10), false);
  }

  private static String picks(Cluster cluster, int n) {
    List<String> chosen = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      chosen.add(cluster.nextEndpoint().map(ClusterTest::name).orElse("-"));
    }
    return String.join("", chosen);
  }

  private static String name(HostPort address) {
    return address.equals(A)
        ? "a"
        : address.equals(B) ? "b" : address.equals(C) ? "c" : address.toString();
  }

  private void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  @Test
  void staticEndpointsAreMembersWithNginxDefaultsAndARepeatedOneWeighsMore() {
    Cluster cluster = cluster(A, B, A);
    assertThat(cluster.members())
        .containsExactly(new Member(A, 2, 1, Duration.ofSeconds(10), false), Member.of(B));
    assertThat(picks(cluster, 6)).isEqualTo("abaaba");
  }

  @Test
  void emptyClusterChoosesNothing() {
    assertThat(cluster().nextEndpoint()).isEmpty();
  }

  @Test
  void choiceFollowsTheWeightsOfTheCurrentMembers() {
    Cluster cluster = cluster(A);
    cluster.replaceMembers(List.of(member(A, 5), member(B, 1), member(C, 1)));
    assertThat(picks(cluster, 7)).isEqualTo("aabacaa");
  }

  @Test
  void downMemberIsNeverChosen() {
    Cluster cluster = cluster();
    cluster.replaceMembers(
        List.of(member(A, 1), new Member(B, 5, 1, Duration.ofSeconds(10), true)));
    assertThat(picks(cluster, 4)).isEqualTo("aaaa");
    cluster.replaceMembers(List.of(new Member(A, 1, 1, Duration.ofSeconds(10), true)));
    assertThat(cluster.nextEndpoint()).as("only down members: nothing (503)").isEmpty();
  }

  @Test
  void failedMemberIsSkippedForFailTimeoutThenChosenAgain() {
    Cluster cluster = cluster(A, B);
    cluster.recordFailure(B);
    assertThat(picks(cluster, 4)).isEqualTo("aaaa");
    assertThat(cluster.memberStatuses())
        .containsExactly(
            new MemberStatus(Member.of(A), MemberStatus.State.HEALTHY, 0, Optional.empty()),
            new MemberStatus(
                Member.of(B), MemberStatus.State.FAILED, 1, Optional.of(WALL.plusSeconds(10))));
    advance(Duration.ofSeconds(4));
    assertThat(cluster.memberStatuses().get(1).failedUntil())
        .as("the wall clock is fixed; 6 s are left")
        .contains(WALL.plusSeconds(6));
    advance(Duration.ofSeconds(6));
    assertThat(picks(cluster, 4)).as("back in turn, with no catching up").isEqualTo("abab");
    assertThat(cluster.memberStatuses())
        .extracting(MemberStatus::state)
        .containsExactly(MemberStatus.State.HEALTHY, MemberStatus.State.HEALTHY);
  }

  @Test
  void whenEveryMemberIsFailedOneIsChosenAnyway() {
    Cluster cluster = cluster(A, B);
    cluster.recordFailure(A);
    cluster.recordFailure(B);
    assertThat(picks(cluster, 4)).as("better than a 503").isEqualTo("abab");
    cluster.replaceMembers(
        List.of(member(A, 1), new Member(B, 1, 1, Duration.ofSeconds(10), true)));
    assertThat(picks(cluster, 2)).as("but never a down one").isEqualTo("aa");
  }

  @Test
  void successClearsAFailedMember() {
    Cluster cluster = cluster(A, B);
    cluster.recordFailure(B);
    cluster.recordSuccess(B);
    assertThat(cluster.memberStatuses())
        .extracting(MemberStatus::state)
        .containsExactly(MemberStatus.State.HEALTHY, MemberStatus.State.HEALTHY);
    assertThat(picks(cluster, 2)).isEqualTo("ab");
  }

  @Test
  void triedMembersAreLeftOutUntilNoneIsLeft() {
    Cluster cluster = cluster(A, B, C);
    assertThat(cluster.nextEndpoint(List.of(A))).contains(B);
    assertThat(cluster.nextEndpoint(List.of(A, B))).contains(C);
    assertThat(cluster.nextEndpoint(List.of(A, B, C))).isEmpty();
  }

  @Test
  void aFailedMemberNotYetTriedIsTheLastResortOfARetry() {
    Cluster cluster = cluster(A, B);
    cluster.recordFailure(B);
    assertThat(cluster.nextEndpoint()).contains(A);
    cluster.recordFailure(A); // the connect to A failed: what now?
    assertThat(cluster.nextEndpoint(List.of(A))).contains(B);
  }

  @Test
  void changedParametersKeepTheHealthOfTheSameAddress() {
    Cluster cluster = cluster(A, B);
    cluster.recordFailure(B);
    cluster.replaceMembers(List.of(member(A, 1), member(B, 3)));
    assertThat(cluster.memberStatuses().get(1))
        .isEqualTo(
            new MemberStatus(
                member(B, 3), MemberStatus.State.FAILED, 1, Optional.of(WALL.plusSeconds(10))));
    assertThat(picks(cluster, 2)).isEqualTo("aa");
  }

  @Test
  void removedAndReAddedMemberStartsHealthy() {
    Cluster cluster = cluster(A, B);
    cluster.recordFailure(B);
    cluster.replaceMembers(List.of(Member.of(A)));
    assertThat(cluster.isMember(B)).isFalse();
    cluster.recordFailure(B); // a request to B that was in flight: nothing to count it on
    cluster.replaceMembers(List.of(Member.of(A), Member.of(B)));
    assertThat(cluster.memberStatuses().get(1).state()).isEqualTo(MemberStatus.State.HEALTHY);
  }

  @Test
  void removedMemberIsNotChosenFromTheNextPickOn() {
    Cluster cluster = cluster(A, B, C);
    assertThat(picks(cluster, 2)).isEqualTo("ab");
    cluster.replaceMembers(List.of(Member.of(A), Member.of(C)));
    // c keeps the credit it had earned among three (it was next): it goes first, twice.
    assertThat(picks(cluster, 6)).isEqualTo("ccacac");
    assertThat(cluster.members()).containsExactly(Member.of(A), Member.of(C));
  }

  @Test
  void repeatedAddressIsRefusedAndChangesNothing() {
    Cluster cluster = cluster(A);
    assertThatThrownBy(
            () -> cluster.replaceMembers(List.of(member(B, 1), member(A, 1), member(B, 2))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("members[2]: 10.0.0.2:80 (expected each address once; members[0] has it too)");
    assertThat(cluster.members()).containsExactly(Member.of(A));
  }

  @Test
  void membersByStateAreExported() {
    Cluster cluster = cluster(A, B);
    cluster.replaceMembers(
        List.of(Member.of(A), Member.of(B), new Member(C, 1, 1, Duration.ofSeconds(10), true)));
    cluster.recordFailure(B);
    assertThat(metrics.scrape())
        .contains("baton_cluster_members{cluster=\"backend\",state=\"healthy\"} 1.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"failed\"} 1.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"down\"} 1.0");
    advance(Duration.ofSeconds(10));
    assertThat(metrics.scrape())
        .contains("baton_cluster_members{cluster=\"backend\",state=\"healthy\"} 2.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"failed\"} 0.0");
  }
}
