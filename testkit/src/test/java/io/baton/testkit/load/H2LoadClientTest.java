package io.baton.testkit.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.testkit.upstream.TestH2Upstream;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link H2LoadClient} directly against {@link TestH2Upstream}: exact counts, GOAWAY honoured. */
@Timeout(60)
class H2LoadClientTest {

  private final TestH2Upstream upstream = TestH2Upstream.start(0, 0);

  @AfterEach
  void close() {
    upstream.close();
  }

  @Test
  void everyRequestCompletesAndArrivesOnce() throws Exception {
    H2LoadClient load =
        H2LoadClient.builder("127.0.0.1", upstream.port())
            .connections(4)
            .streams(8)
            .maxRequests(2000)
            .build()
            .start();
    H2LoadResult r = load.awaitResult(Duration.ofSeconds(30));
    assertThat(r.finished()).as("%s", r).isTrue();
    assertThat(r.completed()).as("%s", r).isEqualTo(2000);
    assertThat(r.failed()).isZero();
    assertThat(r.refused()).isZero();
    assertThat(r.connectionsOpened()).isEqualTo(4);
    assertIdsArrivedOnce(load);
  }

  @Test
  void refusedStreamsAreSentAgainAndCountedApart() throws Exception {
    upstream.refuseNextStreams(25);
    H2LoadClient load =
        H2LoadClient.builder("127.0.0.1", upstream.port())
            .connections(2)
            .streams(4)
            .maxRequests(200)
            .build()
            .start();
    H2LoadResult r = load.awaitResult(Duration.ofSeconds(30));
    assertThat(r.refusedStream()).as("%s", r).isEqualTo(25);
    assertThat(r.completed())
        .as("every id completed once, refused ones on their second try")
        .isEqualTo(200);
    assertThat(r.failed()).isZero();
    assertIdsArrivedOnce(load);
  }

  @Test
  void nonSuccessStatusIsAFailure() throws Exception {
    H2LoadClient load =
        H2LoadClient.builder("127.0.0.1", upstream.port())
            .connections(1)
            .streams(2)
            .maxRequests(10)
            .path("/status/503?")
            .build()
            .start();
    H2LoadResult r = load.awaitResult(Duration.ofSeconds(30));
    assertThat(r.failedStatus()).as("%s", r).isEqualTo(10);
    assertThat(r.completed()).isZero();
  }

  @Test
  void aStreamWithoutAnEndTimesOut() throws Exception {
    H2LoadClient load =
        H2LoadClient.builder("127.0.0.1", upstream.port())
            .connections(1)
            .streams(1)
            .maxRequests(1)
            .query("?delay=5000")
            .streamTimeout(Duration.ofMillis(200))
            .build()
            .start();
    H2LoadResult r = load.awaitResult(Duration.ofSeconds(30));
    assertThat(r.failedTimeout()).as("%s", r).isEqualTo(1);
  }

  @Test
  void goawayMovesTheLoadToNewConnectionsWithoutAFailure() throws Exception {
    // Streams kept in flight (50 ms each) so that each GOAWAY finds some: they must finish.
    H2LoadClient load =
        H2LoadClient.builder("127.0.0.1", upstream.port())
            .connections(4)
            .streams(8)
            .query("?delay=50")
            .maxDuration(Duration.ofSeconds(30))
            .build()
            .start();
    for (int round = 1; round <= 3; round++) {
      // GOAWAY goes to the connections open now: wait until this round's four serve.
      long opened = 4L * round;
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  upstream.connectionsAccepted() >= opened
                      && load.result().connectionsOpened() >= opened);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> load.result().completed() > 0);
      long before = load.result().completed();
      upstream.goAwayAll();
      int expected = round * 4;
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(load.result().goawaysReceived())
                      .as("%s", load.result())
                      .isGreaterThanOrEqualTo(expected));
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(load.result().completed())
                      .as("%s", load.result())
                      .isGreaterThan(before + 64));
    }
    load.stop();
    H2LoadResult r = load.awaitResult(Duration.ofSeconds(30));
    assertThat(r.finished()).as("%s", r).isTrue();
    assertThat(r.failed()).as("%s", r).isZero();
    assertThat(r.connectionsOpened())
        .as("each GOAWAY opened a new connection in place of the old")
        .isGreaterThanOrEqualTo(16);
    assertThat(upstream.connectionsAccepted()).isEqualTo(r.connectionsOpened());
    assertIdsArrivedOnce(load);
  }

  private void assertIdsArrivedOnce(H2LoadClient load) {
    Map<String, Integer> arrived = upstream.idCounts();
    assertThat(arrived.keySet()).isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(arrived.values()).allMatch(n -> n == 1);
  }
}
