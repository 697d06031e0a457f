package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The packaged jar under a low {@code ulimit -n} (util-linux {@code prlimit}), with more clients
 * than descriptors: it keeps serving the connections it has, stops accepting instead of failing
 * (clients wait in the kernel's queue), says so once, and serves everyone when descriptors free.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class FdExhaustionTest {

  private static final Duration WAIT = Duration.ofSeconds(60);

  /** An idle Baton has about 25 descriptors open; 80 leaves room for ~40 clients. */
  private static final int FD_LIMIT = 80;

  private static final int EXISTING = 10;
  private static final int FLOOD = 70;

  private final BatonFixture fixture = new BatonFixture();
  private final List<RawHttp> clients = new ArrayList<>();
  private final List<Socket> idle = new ArrayList<>();
  private TestUpstream upstream;

  @AfterEach
  void stop() throws IOException {
    for (RawHttp c : clients) {
      c.close();
    }
    for (Socket s : idle) {
      s.close();
    }
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void moreClientsThanDescriptorsWaitInTheQueueAndAreAllServed() throws Exception {
    BatonProcess baton = startUnderFdLimit();
    ServingLine serving = baton.awaitServing(WAIT);
    InetSocketAddress web = serving.listener("web");

    List<RawHttp> existing = new ArrayList<>();
    for (int i = 0; i < EXISTING; i++) {
      RawHttp c = new RawHttp(web, 4096);
      existing.add(c);
      clients.add(c);
      assertAnswered(c, "existing-" + i);
    }

    List<RawHttp> flood = new ArrayList<>();
    for (int i = 0; i < FLOOD; i++) {
      RawHttp c = new RawHttp(web, 4096);
      flood.add(c);
      clients.add(c);
      c.send(get("flood-" + i));
    }
    String said = baton.awaitLogLine("kept in reserve", WAIT);
    assertThat(said)
        .contains("listener web: ")
        .contains("of " + FD_LIMIT + " file descriptors in use (ulimit -n), 16 kept in reserve")
        .contains("not accepting until descriptors are freed");
    assertThat(
            Admin.sample(
                serving.admin(),
                "baton_listener_fds_short_total{listener=\"web\",reason=\"reserve_reached\"}"))
        .isGreaterThanOrEqualTo(1.0);

    // The connections it has are served on.
    for (int i = 0; i < EXISTING; i++) {
      assertAnswered(existing.get(i), "existing-again-" + i);
    }

    // Every flood client is answered, in the order the kernel queued them, as others leave.
    for (RawHttp c : existing) {
      c.close();
    }
    for (int i = 0; i < FLOOD; i++) {
      RawHttp.Response r = flood.get(i).read();
      assertThat(r.status()).as("flood-%d", i).isEqualTo(200);
      assertThat(r.bodyText()).contains("flood-" + i);
      flood.get(i).close();
    }

    for (int i = 0; i < FLOOD; i++) {
      assertThat(upstream.idCounts()).containsEntry("flood-" + i, 1);
    }
    for (int i = 0; i < EXISTING; i++) {
      assertThat(upstream.idCounts())
          .containsEntry("existing-" + i, 1)
          .containsEntry("existing-again-" + i, 1);
    }
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(baton.logContains("listener web: accepting again")).isTrue());
    assertThat(
            Admin.sample(
                serving.admin(),
                "baton_listener_fds_short_total{listener=\"web\",reason=\"accept_failed\"}"))
        .as("the reserve kept accept from failing")
        .isZero();
  }

  @Test
  void aFailedAcceptPausesTheListenerAndItRecovers() throws Exception {
    BatonProcess baton = startUnderFdLimit();
    ServingLine serving = baton.awaitServing(WAIT);
    RawHttp kept = new RawHttp(serving.listener("web"), 4096);
    clients.add(kept);
    assertAnswered(kept, "before");

    // The admin listener keeps no reserve: enough idle connections to it use every descriptor.
    for (int i = 0; i < FD_LIMIT; i++) {
      Socket s = new Socket();
      s.connect(serving.admin(), 5000);
      idle.add(s);
    }
    String said = baton.awaitLogLine("listener admin: accept failed (", WAIT);
    assertThat(said).contains("Too many open files").contains("not accepting until");

    for (Socket s : idle) {
      s.close();
    }
    idle.clear();
    // Recovered: the admin listener answers again, and the kept client was never cut.
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(Admin.readyStatus(serving.admin())).isEqualTo(200));
    assertAnswered(kept, "after");
    assertThat(baton.isAlive()).isTrue();
  }

  /** Baton proxying to a test upstream, under {@code ulimit -n} {@value #FD_LIMIT}. */
  private BatonProcess startUnderFdLimit() {
    upstream = TestUpstream.start(0);
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    return fixture.startWrapped(
        List.of("prlimit", "--nofile=" + FD_LIMIT + ":" + FD_LIMIT), config);
  }

  private static String get(String id) {
    return "GET /load/" + id + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }

  private static void assertAnswered(RawHttp c, String id) throws IOException {
    c.send(get(id));
    RawHttp.Response r = c.read();
    assertThat(r.status()).as(id).isEqualTo(200);
    assertThat(r.bodyText()).contains(id);
  }
}
