package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code listeners[].maxConnections} through the packaged jar: at the limit the listener stops
 * accepting and clients wait in the kernel's queue; none is refused, also across a handoff.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class ConnectionLimitTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int LIMIT = 4;

  /**
   * How long a queued client is shown to get no answer: it cannot get one while the limit holds.
   */
  private static final int NOT_ANSWERED_MS = 500;

  private final BatonFixture fixture = new BatonFixture();
  private final List<RawHttp> clients = new ArrayList<>();
  private TestUpstream upstream;
  private Path config;
  private int answered;

  @BeforeEach
  void start() {
    upstream = TestUpstream.start(0);
    config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend", LIMIT)
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
  }

  @AfterEach
  void stop() throws IOException {
    for (RawHttp c : clients) {
      c.close();
    }
    fixture.close();
    upstream.close();
  }

  @Test
  void aClientOverTheLimitWaitsInTheQueueAndIsServedWhenAnotherLeaves() throws Exception {
    BatonProcess baton = fixture.start(config);
    ServingLine serving = baton.awaitServing(WAIT);
    InetSocketAddress web = serving.listener("web");
    for (int i = 0; i < LIMIT; i++) {
      clients.add(served(web, "held-" + i));
    }

    Socket queuedSocket = connect(web);
    RawHttp queued = new RawHttp(queuedSocket, 4096);
    clients.add(queued);
    queued.send(get("queued"));
    assertNotAnswered(queuedSocket, queued);

    assertThat(Admin.sample(serving.admin(), limitReached())).isEqualTo(1.0);
    assertThat(Admin.sample(serving.admin(), "baton_listener_connection_limit{listener=\"web\"}"))
        .isEqualTo(LIMIT);
    assertThat(baton.awaitLogLine("its limit (maxConnections " + LIMIT + ")", WAIT))
        .contains("listener web: " + LIMIT + " connections open");

    clients.remove(0).close();
    queuedSocket.setSoTimeout((int) WAIT.toMillis());
    assertAnswered(queued, "queued");

    assertThat(upstream.idCounts())
        .containsEntry("queued", 1)
        .containsEntry("held-0", 1)
        .containsEntry("held-3", 1);
    assertThat(answered).isEqualTo(LIMIT + 1);
  }

  @Test
  void aHandoffAtTheLimitLosesNeitherTheOpenNorTheQueuedClients() throws Exception {
    BatonProcess old = fixture.start(config);
    InetSocketAddress web = old.awaitServing(WAIT).listener("web");
    for (int i = 0; i < LIMIT; i++) {
      clients.add(served(web, "before-" + i));
    }
    Socket queuedSocket = connect(web);
    RawHttp queued = new RawHttp(queuedSocket, 4096);
    queued.send(get("queued"));
    assertNotAnswered(queuedSocket, queued);

    BatonProcess successor = fixture.start(config);
    assertThat(successor.awaitServing(WAIT).generation()).isEqualTo(2);
    assertThat(old.awaitExit(WAIT)).isZero();

    // The open connections moved to the successor, which counts them against its own limit: the
    // queued client is answered there now (if it was accepted before they arrived) or once one
    // of them leaves.
    for (int i = 0; i < LIMIT; i++) {
      clients.get(i).send(get("after-" + i));
      assertAnswered(clients.get(i), "after-" + i);
    }
    clients.remove(0).close();
    queuedSocket.setSoTimeout((int) WAIT.toMillis());
    assertAnswered(queued, "queued");
    queued.close();

    assertThat(answered).isEqualTo(2 * LIMIT + 1);
    for (int i = 0; i < LIMIT; i++) {
      assertThat(upstream.idCounts())
          .containsEntry("before-" + i, 1)
          .containsEntry("after-" + i, 1);
    }
    assertThat(upstream.idCounts()).containsEntry("queued", 1);
  }

  private static String limitReached() {
    return "baton_listener_connection_limit_reached_total{listener=\"web\"}";
  }

  private static String get(String id) {
    return "GET /load/" + id + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }

  private static Socket connect(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 5000);
    return s;
  }

  private RawHttp served(InetSocketAddress web, String id) throws IOException {
    RawHttp c = new RawHttp(web);
    c.send(get(id));
    assertAnswered(c, id);
    return c;
  }

  private void assertAnswered(RawHttp c, String id) throws IOException {
    RawHttp.Response r = c.read();
    assertThat(r.status()).as("answer to %s", id).isEqualTo(200);
    assertThat(r.bodyText()).contains(id);
    answered++;
  }

  private static void assertNotAnswered(Socket socket, RawHttp queued) throws IOException {
    socket.setSoTimeout(NOT_ANSWERED_MS);
    assertThatThrownBy(queued::read)
        .as("a client over the limit is not served while the limit holds")
        .isInstanceOf(SocketTimeoutException.class);
  }
}
