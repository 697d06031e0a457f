package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.it.support.NotifySocket;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Baton under systemd, without systemd: {@code systemd-socket-activate} binds the listener and
 * starts Baton with it as fd 3 (as a {@code baton.socket} unit would), and a datagram socket of the
 * test's own stands in for systemd's {@code NOTIFY_SOCKET}. A missing tool fails the test.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class SystemdTest {

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private NotifySocket systemd;

  @AfterEach
  void cleanUp() {
    if (systemd != null) {
      systemd.close();
    }
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void socketActivatedBatonServesOnSystemdsListenerAndSystemdFollowsTheNextGeneration()
      throws Exception {
    upstream = TestUpstream.start(0);
    systemd = new NotifySocket(fixture.dir().resolve("notify"));
    int port = freePort();
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .migrate(false)
            .httpListener("web", "127.0.0.1:" + port, "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    InetSocketAddress web = new InetSocketAddress("127.0.0.1", port);

    BatonProcess first =
        fixture.startSocketActivated(
            config, "127.0.0.1:" + port, "web", Map.of("NOTIFY_SOCKET", systemd.address()));
    // systemd-socket-activate starts Baton at the first connection; this request waits in the
    // kernel's accept queue of systemd's socket until Baton accepts it.
    RawHttp.Response firstResponse = get(web, "/load/first-request");
    assertThat(firstResponse.status())
        .as("the request that made systemd start Baton")
        .isEqualTo(200);
    ServingLine one = first.awaitServing(Generations.WAIT);
    assertThat(one.pid()).as("the tool execs Baton in its own place").isEqualTo(first.pid());
    assertThat(one.listener("web").getPort()).isEqualTo(port);
    // Without the claim in SocketActivation this line is "bound fresh", and with systemd holding
    // the port that bind fails.
    first.awaitLogLine(
        "listener web (127.0.0.1:" + port + ") takes systemd socket fd 3 (name web",
        Generations.WAIT);
    systemd.awaitMessageWith(
        Generations.WAIT,
        "MAINPID=" + first.pid(),
        "READY=1",
        "STATUS=generation 1 serving on 1 listener");

    LoadClient load =
        LoadClient.builder("127.0.0.1", port)
            .workers(4)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(3))
            .build();
    load.start();
    try {
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> load.result().ok() > 50);
      BatonProcess second = fixture.start(config, Map.of("NOTIFY_SOCKET", systemd.address()));
      ServingLine two = second.awaitServing(Generations.WAIT);
      assertThat(two.generation()).isEqualTo(2);
      assertThat(two.listener("web").getPort()).as("systemd's socket, handed over").isEqualTo(port);
      String reloading = systemd.awaitMessageWith(Generations.WAIT, "RELOADING=1");
      assertThat(reloading)
          .as("systemd 253+ ignores RELOADING=1 without it")
          .contains("MONOTONIC_USEC=");
      String ready =
          systemd.awaitMessageWith(Generations.WAIT, "MAINPID=" + second.pid(), "READY=1");
      assertThat(systemd.messages())
          .as("the old generation announced the reload before the new one said READY")
          .containsSubsequence(reloading, ready);
      assertThat(first.awaitExit(Generations.WAIT)).as("generation 1's exit code").isZero();
      long before = load.result().ok();
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> load.result().ok() > before + 50);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(Duration.ofSeconds(60));
    assertThat(result.failed()).as("failed requests across the handoff: %s", result).isZero();
    assertThat(result.perGeneration().keySet())
        .as("requests served by each generation")
        .contains("1", "2");
    Map<String, Integer> arrived = upstream.idCounts();
    HashSet<String> sent = new HashSet<>(load.idsSent());
    assertThat(arrived.keySet()).as("every id sent arrived at the upstream").containsAll(sent);
    assertThat(sent).allMatch(id -> arrived.get(id) == 1, "arrived exactly once");
    System.out.println(
        "socket-activated handoff under load: "
            + result
            + "\nnotify messages: "
            + systemd.messages());
  }

  @Test
  void sigtermSaysStoppingBeforeTheDrain() throws Exception {
    upstream = TestUpstream.start(0);
    systemd = new NotifySocket(fixture.dir().resolve("notify"));
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    BatonProcess baton = fixture.start(config, Map.of("NOTIFY_SOCKET", systemd.address()));
    baton.awaitServing(Generations.WAIT);
    systemd.awaitMessageWith(Generations.WAIT, "MAINPID=" + baton.pid(), "READY=1");
    baton.signal("TERM");
    systemd.awaitMessageWith(
        Generations.WAIT, "STOPPING=1", "STATUS=generation 1 draining to stop");
    assertThat(baton.awaitExit(Generations.WAIT))
        .as("exit code after draining on SIGTERM")
        .isZero();
  }

  @Test
  void aColdStartIgnoresFdsPassedToAnotherProcess() throws Exception {
    upstream = TestUpstream.start(0);
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    // As a child of a socket-activated process would see them: LISTEN_PID is the parent's.
    BatonProcess baton =
        fixture.start(
            config, Map.of("LISTEN_PID", "1", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "web"));
    ServingLine serving = baton.awaitServing(Generations.WAIT);
    assertThat(baton.logContains("LISTEN_PID 1 is not this process (" + baton.pid() + ")"))
        .isTrue();
    assertThat(baton.logContains("listener web (127.0.0.1:0, http) bound fresh")).isTrue();
    assertThat(get(serving.listener("web"), "/load/cold-start").status()).isEqualTo(200);
  }

  private static RawHttp.Response get(InetSocketAddress address, String path) throws IOException {
    try (RawHttp http = new RawHttp(address)) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
      return http.read();
    }
  }

  /**
   * A port nobody listens on now; systemd-socket-activate binds it (a test may race another for it,
   * rarely).
   */
  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }
}
