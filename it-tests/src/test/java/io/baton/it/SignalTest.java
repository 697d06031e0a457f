package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
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
 * The signals of nginx's operators: USR2 and HUP start the next generation from inside the active
 * one (HUP only with a config that loads), TERM drains and exits 0.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class SignalTest {

  private static final Duration WAIT = Generations.WAIT;

  private final BatonFixture fixture = new BatonFixture();
  private final List<TestUpstream> upstreams = new ArrayList<>();
  private TestUpstream upstream;
  private Path config;
  private BatonProcess first;
  private ServingLine serving;

  @BeforeEach
  void startFirstGeneration() {
    upstream = upstream();
    config =
        fixture
            .webProxyConfig(upstream.port())
            .drainTimeout("120s")
            .write(); // longer than WAIT: an exit within WAIT is the drain finishing, not its
    // deadline
    first = fixture.start(config);
    serving = first.awaitServing(WAIT);
  }

  @AfterEach
  void cleanUp() {
    fixture.close(); // also ends the generations the first one started
    upstreams.forEach(TestUpstream::close);
  }

  private TestUpstream upstream() {
    TestUpstream u = TestUpstream.start(0);
    upstreams.add(u);
    return u;
  }

  private LoadClient keepAliveLoad() {
    InetSocketAddress web = serving.listener("web");
    return LoadClient.builder(web.getHostString(), web.getPort())
        .workers(8)
        .mode(LoadClient.Mode.KEEP_ALIVE)
        .maxDuration(Duration.ofMinutes(3))
        .build();
  }

  @Test
  void sigusr2StartsTheNextGenerationFromTheSameCommandLineWithNoFailedRequest() throws Exception {
    LoadClient load = keepAliveLoad();
    load.start();
    ServingLine second;
    try {
      await().atMost(WAIT).until(() -> load.result().ok() > 100);
      first.signal("USR2");

      second = first.awaitServingOfGeneration(2, WAIT);
      assertThat(first.awaitExit(WAIT)).as("generation 1 exits after its drain").isZero();
      long before = load.result().ok();
      await().atMost(WAIT).until(() -> load.result().ok() > before + 100);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);

    assertThat(result.failed()).as("failed requests across a SIGUSR2 handoff: %s", result).isZero();
    assertThat(result.perGeneration()).containsKeys("1", "2");
    assertThat(second.listeners()).as("the same sockets").isEqualTo(serving.listeners());
    assertThat(ProcessHandle.of(second.pid()).flatMap(h -> h.info().arguments()).orElseThrow())
        .as("the next generation runs the same command line")
        .containsSubsequence(
            "-jar", BatonFixture.JAR.toString(), "run", "--config", config.toString());
    assertThat(first.stderrText())
        .contains("sigusr2: started pid " + second.pid() + " to take over as generation 2");
    assertThat(
            Admin.sample(
                second.admin(), "baton_upgrades_total{result=\"started\",trigger=\"sigusr2\"}"))
        .as("counted by generation 1, carried to generation 2")
        .isEqualTo(1);
  }

  @Test
  void sighupWithAChangedConfigHandsOverToAGenerationThatUsesIt() throws Exception {
    TestUpstream replacement = upstream();
    // The same listener (configured address 127.0.0.1:0: the socket is handed over), another
    // upstream.
    Files.writeString(
        config, fixture.webProxyConfig(replacement.port()).drainTimeout("120s").yaml());
    LoadClient load = keepAliveLoad();
    load.start();
    try {
      await().atMost(WAIT).until(() -> load.result().ok() > 100);
      first.signal("HUP");

      first.awaitServingOfGeneration(2, WAIT);
      assertThat(first.awaitExit(WAIT)).isZero();
      await().atMost(WAIT).until(() -> replacement.idCounts().size() > 100);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);

    assertThat(result.failed()).as("failed requests across a SIGHUP reload: %s", result).isZero();
    assertThat(upstream.idCounts().size() + replacement.idCounts().size())
        .as("every request reached exactly one of the two upstreams")
        .isEqualTo(load.idsSent().size());
    assertThat(replacement.idCounts().values()).allMatch(n -> n == 1);
    assertThat(upstream.idCounts().values()).allMatch(n -> n == 1);
  }

  @Test
  void sighupWithAnInvalidConfigIsRefusedAndTheOldGenerationServesOn() throws Exception {
    Files.writeString(config, Files.readString(config) + "drian:\n  timeout: 5s\n");

    first.signal("HUP");

    first.awaitLogLine("sighup: " + config + " does not load", WAIT);
    assertThat(first.logContains("drian: unknown key")).as("the log names the key").isTrue();
    assertThat(
            Admin.sample(
                serving.admin(),
                "baton_upgrades_total{result=\"invalid_config\",trigger=\"sighup\"}"))
        .isEqualTo(1);
    try (RawHttp client = new RawHttp(serving.listener("web"))) {
      client.send("GET /load/after-refused-reload HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response r = client.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("x-baton-generation")).as("still generation 1").isEqualTo("1");
    }
    assertThat(first.isAlive()).isTrue();
    assertThat(first.stdoutText())
        .as("no other generation was started")
        .doesNotContain("generation=2");
  }

  @Test
  void sigtermLetsEveryInFlightRequestFinishThenExitsZero() throws Exception {
    int inFlight = 16;
    List<RawHttp> clients = new ArrayList<>();
    try {
      for (int i = 0; i < inFlight; i++) {
        RawHttp c = new RawHttp(serving.listener("web"));
        clients.add(c);
        c.send("GET /delay/1500 HTTP/1.1\r\nHost: t\r\n\r\n");
      }
      await().atMost(WAIT).until(() -> upstream.delayedRequestsInFlight() == inFlight);

      first.signal("TERM");
      first.awaitLogLine("drain started", WAIT);

      for (RawHttp c : clients) {
        RawHttp.Response r = c.read();
        assertThat(r.status()).as("a request in flight at SIGTERM").isEqualTo(200);
        assertThat(r.closes()).as("and its connection closes after it").isTrue();
      }
      assertThat(first.awaitExit(WAIT)).as("exit code after a SIGTERM drain").isZero();
    } finally {
      for (RawHttp c : clients) {
        closeQuietly(c);
      }
    }
  }

  private static void closeQuietly(RawHttp c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing a test client: nothing to report
    }
  }
}
