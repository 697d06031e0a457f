package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.sidecar.upstream.Member;
import io.baton.sidecar.upstream.MemberStatus;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.upstream.TestUpstream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP/1.1 proxy in front of a cluster whose members change and fail: real loopback sockets,
 * the real handler, real upstreams. Passive health runs on a clock the test moves.
 */
@Timeout(60)
class Http1BalancingTest {

  private static final Duration FAIL_TIMEOUT = Duration.ofSeconds(10);

  private final AtomicLong nanos = new AtomicLong();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private ProxyUnderTest proxy;

  @AfterEach
  void cleanUp() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  private TestUpstream upstream() {
    TestUpstream u = TestUpstream.start(0);
    closing.add(u);
    return u;
  }

  private static HostPort address(TestUpstream u) {
    return new HostPort("127.0.0.1", u.port());
  }

  private static HostPort closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return new HostPort("127.0.0.1", s.getLocalPort());
    }
  }

  private static Member member(HostPort address, int weight) {
    return new Member(address, weight, 1, FAIL_TIMEOUT, false);
  }

  private ProxyUnderTest proxy(Duration requestTimeout, Member... members) throws Exception {
    proxy = ProxyUnderTest.http(requestTimeout, nanos::get, List.of(members));
    return proxy;
  }

  private static RawHttp.Response get(RawHttp http, String path) throws Exception {
    http.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    return http.read();
  }

  private MemberStatus.State stateOf(HostPort address) {
    return proxy.cluster().memberStatuses().stream()
        .filter(s -> s.member().address().equals(address))
        .findFirst()
        .orElseThrow()
        .state();
  }

  @Test
  void requestsSplitByWeight() throws Exception {
    TestUpstream heavy = upstream();
    TestUpstream light = upstream();
    proxy(Duration.ofSeconds(5), member(address(heavy), 3), member(address(light), 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      for (int i = 0; i < 400; i++) {
        assertThat(get(http, "/load/r-" + i).status()).isEqualTo(200);
      }
    }
    assertThat(heavy.idCounts()).hasSize(300).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    assertThat(light.idCounts()).hasSize(100).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
    // Smooth: the light member's requests are spread out, one in every four.
    assertThat(light.idCounts()).containsKeys("r-2", "r-6", "r-10", "r-398");
  }

  @Test
  void removedMemberGetsNoNewRequestsAndItsIdlePooledConnectionsClose() throws Exception {
    TestUpstream kept = upstream();
    TestUpstream removed = upstream();
    proxy(Duration.ofSeconds(5), member(address(kept), 1), member(address(removed), 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      for (int i = 0; i < 4; i++) {
        assertThat(get(http, "/load/before-" + i).status()).isEqualTo(200);
      }
      assertThat(removed.idCounts()).containsOnlyKeys("before-1", "before-3");
      assertThat(removed.connectionsOpen()).as("pooled, idle").isEqualTo(1);

      proxy.cluster().replaceMembers(List.of(member(address(kept), 1)));
      await().atMost(Duration.ofSeconds(10)).until(() -> removed.connectionsOpen() == 0);

      for (int i = 0; i < 4; i++) {
        assertThat(get(http, "/load/after-" + i).status()).isEqualTo(200);
      }
    }
    assertThat(removed.idCounts()).containsOnlyKeys("before-1", "before-3");
    assertThat(kept.idCounts()).containsKeys("after-0", "after-1", "after-2", "after-3");
    assertThat(kept.connectionsAccepted())
        .as("the kept member's pooled connection served on")
        .isEqualTo(1);
  }

  @Test
  void inFlightRequestToRemovedMemberCompletes() throws Exception {
    TestUpstream removed = upstream();
    TestUpstream next = upstream();
    proxy(Duration.ofSeconds(30), member(address(removed), 1), member(address(next), 1));
    try (RawHttp inFlight = new RawHttp(proxy.address());
        RawHttp other = new RawHttp(proxy.address())) {
      inFlight.send("GET /hold/in-flight HTTP/1.1\r\nHost: t\r\n\r\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> removed.heldRequests() == 1);

      proxy.cluster().replaceMembers(List.of(member(address(next), 1)));
      assertThat(get(other, "/load/meanwhile").status()).isEqualTo(200);
      removed.releaseHeld();

      RawHttp.Response answered = inFlight.read();
      assertThat(answered.status()).isEqualTo(200);
      assertThat(answered.bodyText()).isEqualTo("held in-flight\n");
      assertThat(answered.closes()).as("the client connection is not affected").isFalse();
      await("released to no pool: closed")
          .atMost(Duration.ofSeconds(10))
          .until(() -> removed.connectionsOpen() == 0);
      assertThat(get(inFlight, "/load/its-next").status()).isEqualTo(200);
    }
    assertThat(removed.idCounts()).containsOnlyKeys("in-flight");
    assertThat(next.idCounts()).containsOnlyKeys("meanwhile", "its-next");
    assertThat(proxy.metrics.scrape())
        .doesNotContainPattern("baton_upstream_errors_total\\{[^}]*\\} [1-9]");
  }

  @Test
  void refusedConnectTriesTheNextMemberSoTheClientGets200() throws Exception {
    HostPort refusing = closedPort();
    TestUpstream up = upstream();
    proxy(Duration.ofSeconds(5), member(refusing, 1), member(address(up), 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      RawHttp.Response r =
          get(http, "/load/first"); // the first pick is the first member: the refusing one
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo("ok first\n");
      assertThat(stateOf(refusing)).isEqualTo(MemberStatus.State.FAILED);
      for (int i = 0; i < 3; i++) {
        assertThat(get(http, "/load/then-" + i).status()).isEqualTo(200);
      }
    }
    assertThat(up.idCounts()).containsOnlyKeys("first", "then-0", "then-1", "then-2");
    assertThat(proxy.metrics.scrape())
        .as("one refused connect: the failed member was not tried again within failTimeout")
        .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"connect_failed\"} 1.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"failed\"} 1.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"healthy\"} 1.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"down\"} 0.0");
  }

  @Test
  void everyMemberRefusingGives502AfterTryingEachOnce() throws Exception {
    proxy(
        Duration.ofSeconds(5),
        member(closedPort(), 1),
        member(closedPort(), 1),
        member(closedPort(), 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      RawHttp.Response r = get(http, "/load/nowhere");
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.closes()).as("the client connection stays usable").isFalse();
    }
    assertThat(proxy.metrics.scrape())
        .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"connect_failed\"} 3.0")
        .contains("baton_cluster_members{cluster=\"backend\",state=\"failed\"} 3.0");
  }

  @Test
  void failedMemberIsSkippedForFailTimeoutThenTriedAgain() throws Exception {
    TestUpstream up = upstream();
    HostPort flaky = closedPort();
    proxy(Duration.ofSeconds(5), member(address(up), 1), member(flaky, 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      assertThat(get(http, "/load/a").status()).isEqualTo(200);
      assertThat(get(http, "/load/refused-then-retried").status()).isEqualTo(200);
      assertThat(stateOf(flaky)).isEqualTo(MemberStatus.State.FAILED);

      // It comes back, but failTimeout has not passed: it gets nothing.
      TestUpstream back = TestUpstream.start(flaky.port());
      closing.add(back);
      for (int i = 0; i < 4; i++) {
        assertThat(get(http, "/load/skipping-" + i).status()).isEqualTo(200);
      }
      assertThat(back.idCounts()).isEmpty();

      nanos.addAndGet(FAIL_TIMEOUT.toNanos());
      assertThat(stateOf(flaky)).isEqualTo(MemberStatus.State.HEALTHY);
      for (int i = 0; i < 4; i++) {
        assertThat(get(http, "/load/again-" + i).status()).isEqualTo(200);
      }
      assertThat(back.idCounts()).as("in turn again").containsOnlyKeys("again-1", "again-3");
    }
    assertThat(proxy.metrics.scrape())
        .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"connect_failed\"} 1.0");
  }

  @Test
  void responseTimeoutCountsAsAFailureOfThatMember() throws Exception {
    TestUpstream slow = upstream();
    TestUpstream fine = upstream();
    proxy(Duration.ofMillis(200), member(address(slow), 1), member(address(fine), 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      assertThat(get(http, "/delay/3000").status())
          .as("sent, so not retried elsewhere")
          .isEqualTo(504);
      assertThat(stateOf(address(slow))).isEqualTo(MemberStatus.State.FAILED);
      for (int i = 0; i < 3; i++) {
        assertThat(get(http, "/load/later-" + i).status()).isEqualTo(200);
      }
    }
    assertThat(fine.idCounts()).containsOnlyKeys("later-0", "later-1", "later-2");
  }

  @Test
  void upstreamClosingBeforeItsResponseCountsAsAFailure() throws Exception {
    TestUpstream fine = upstream();
    try (ServerSocket hangingUp = new ServerSocket(0)) {
      HostPort rude = new HostPort("127.0.0.1", hangingUp.getLocalPort());
      CompletableFuture<Void> hungUp =
          CompletableFuture.runAsync(
              () -> {
                try (Socket s = hangingUp.accept()) {
                  InputStream in = s.getInputStream();
                  in.read(); // the request has started to arrive; close without a word
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      proxy(Duration.ofSeconds(5), member(rude, 1), member(address(fine), 1));
      try (RawHttp http = new RawHttp(proxy.address())) {
        assertThat(get(http, "/load/hung-up").status()).isEqualTo(502);
        hungUp.get(10, TimeUnit.SECONDS);
        assertThat(stateOf(rude)).isEqualTo(MemberStatus.State.FAILED);
        assertThat(get(http, "/load/next").status()).isEqualTo(200);
        assertThat(get(http, "/load/after").status()).isEqualTo(200);
      }
    }
    assertThat(fine.idCounts()).containsOnlyKeys("next", "after");
  }

  @Test
  void aPooledConnectionTheUpstreamClosesOnReuseDoesNotFailTheMember() throws Exception {
    TestUpstream fine = upstream();
    try (ServerSocket idleTimingOut = new ServerSocket(0)) {
      HostPort member = new HostPort("127.0.0.1", idleTimingOut.getLocalPort());
      CompletableFuture<Void> served =
          CompletableFuture.runAsync(
              () -> {
                try (Socket s = idleTimingOut.accept()) {
                  InputStream in = s.getInputStream();
                  readHead(in);
                  s.getOutputStream()
                      .write(
                          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                              .getBytes(StandardCharsets.US_ASCII));
                  in.read(); // the next request on the kept-alive connection: close, as an idle
                  // timeout would
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      proxy(Duration.ofSeconds(5), member(member, 1), member(address(fine), 1));
      try (RawHttp http = new RawHttp(proxy.address())) {
        assertThat(get(http, "/load/first").status()).isEqualTo(200);
        assertThat(get(http, "/load/on-fine").status()).isEqualTo(200);
        get(http, "/load/reused"); // on the pooled connection, which the member closes
        served.get(10, TimeUnit.SECONDS);
        assertThat(stateOf(member)).isEqualTo(MemberStatus.State.HEALTHY);
      }
    }
  }

  private static void readHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the request head ended early");
      }
      matched = b == end[matched] ? matched + 1 : b == '\r' ? 1 : 0;
    }
  }

  @Test
  void singleMemberThatRefusesGives502AtOnce() throws Exception {
    proxy(Duration.ofSeconds(5), member(closedPort(), 1));
    try (RawHttp http = new RawHttp(proxy.address())) {
      assertThat(get(http, "/load/x").status()).isEqualTo(502);
      // FAILED, but the only member: tried again rather than a 503.
      assertThat(get(http, "/load/y").status()).isEqualTo(502);
    }
    assertThat(proxy.metrics.scrape())
        .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"connect_failed\"} 2.0")
        .contains("baton_upstream_errors_total{cluster=\"backend\",reason=\"no_endpoint\"} 0.0");
  }
}
