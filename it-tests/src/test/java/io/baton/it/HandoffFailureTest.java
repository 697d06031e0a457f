package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The new process dies at each step of a handoff; the old one must lose nothing it owns. */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class HandoffFailureTest {

  private static final Duration WAIT = Duration.ofSeconds(60);

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private Path config;
  private BatonProcess old;
  private ServingLine oldServing;
  private InetSocketAddress web;

  @BeforeEach
  void startFirstGeneration() throws Exception {
    upstream = TestUpstream.start(0);
    config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("60s")
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    old = fixture.start(config);
    oldServing = old.awaitServing(WAIT);
    web = oldServing.listener("web");
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
    upstream.close();
  }

  @ParameterizedTest(name = "killed at {0}")
  @ValueSource(strings = {"welcomed", "listeners_received"})
  void oldProcessKeepsServingWhenNewIsKilledBeforeReady(String step) throws Exception {
    LoadClient load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(16)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(2))
            .build();
    load.start();
    try {
      BatonProcess dying = fixture.start(config, Map.of("BATON_TEST_PAUSE_AT", step));
      dying.awaitLogLine("paused at handoff step " + step.toUpperCase(), WAIT);
      dying.kill();
      await()
          .atMost(WAIT)
          .until(
              () ->
                  Admin.sample(oldServing.admin(), "baton_handoffs_total{result=\"failed\"}")
                      == 1.0);
      long afterKill = load.result().ok();
      await().atMost(WAIT).until(() -> load.result().ok() > afterKill + 500);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);
    assertThat(result.failed())
        .as("failures while the new process died at %s: %s", step, result)
        .isZero();
    assertThat(result.perGeneration().keySet()).containsOnly("1");
    assertEachIdArrivedOnce(load);
    assertThat(Admin.readyStatus(oldServing.admin())).isEqualTo(200);
    assertThat(fixture.runDir().resolve("listen.sock")).doesNotExist();
    // Nothing changed on the old side: the next handoff works.
    BatonProcess next = fixture.start(config);
    assertThat(next.awaitServing(WAIT).generation()).isEqualTo(2);
    assertThat(old.awaitExit(WAIT)).isZero();
  }

  @Test
  void oldProcessRollsBackWhenNewIsKilledDuringItsDrain() throws Exception {
    // A slow request keeps the old process draining while the new one dies.
    CompletableFuture<RawHttp.Response> slow =
        CompletableFuture.supplyAsync(() -> request(web, "/delay/8000"));
    await().atMost(WAIT).until(() -> upstream.delayedRequestsInFlight() == 1);

    BatonProcess successor = fixture.start(config);
    ServingLine second = successor.awaitServing(WAIT);
    old.awaitLogLine("phase SERVING -> DRAINING", WAIT);

    // Keep-alive connections the successor accepted: these are what its death takes with it.
    List<RawHttp> onSuccessor = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      RawHttp c = new RawHttp(web);
      c.send("GET /load/on-successor-" + i + " HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response r = c.read();
      assertThat(r.header("x-baton-generation")).isEqualTo("2");
      onSuccessor.add(c);
    }

    successor.kill();
    // New connections from the moment of the kill: queued in the shared backlog, served by the
    // old process once it rolled back.
    LoadClient load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(16)
            .mode(LoadClient.Mode.CLOSE)
            .maxDuration(Duration.ofMinutes(2))
            .build();
    load.start();
    try {
      old.awaitLogLine("rolled back", WAIT);
      await().atMost(WAIT).until(() -> load.result().ok() > 500);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);
    assertThat(result.failed()).as("new connections during the rollback: %s", result).isZero();
    assertThat(result.perGeneration().keySet()).containsOnly("1");
    assertEachIdArrivedOnce(load);

    // Exactly the connections the dead process owned are lost, each at its next request.
    int lost = 0;
    for (RawHttp c : onSuccessor) {
      try (c) {
        c.send("GET /load/after-kill HTTP/1.1\r\nHost: t\r\n\r\n");
        c.read();
      } catch (IOException expected) {
        lost++;
      }
    }
    assertThat(lost).isEqualTo(onSuccessor.size());
    assertThat(upstream.idCounts()).doesNotContainKey("after-kill");

    assertThat(slow.get(60, TimeUnit.SECONDS).status())
        .as("the request in flight on the old process completes")
        .isEqualTo(200);
    assertThat(Admin.sample(oldServing.admin(), "baton_handoffs_total{result=\"rolled_back\"}"))
        .isEqualTo(1.0);
    assertThat(Admin.readyStatus(oldServing.admin())).isEqualTo(200);
    assertThat(old.isAlive()).isTrue();
    // It serves reconfig.sock again: a new successor takes over normally.
    BatonProcess third = fixture.start(config);
    assertThat(third.awaitServing(WAIT).generation()).isEqualTo(2);
    assertThat(old.awaitExit(WAIT)).isZero();
  }

  private void assertEachIdArrivedOnce(LoadClient load) {
    Map<String, Integer> arrived = upstream.idCounts();
    for (String id : load.idsSent()) {
      assertThat(arrived.get(id)).as("arrivals of id %s", id).isEqualTo(1);
    }
  }

  private static RawHttp.Response request(InetSocketAddress address, String path) {
    try (RawHttp http = new RawHttp(address)) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
      return http.read();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
