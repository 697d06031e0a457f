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
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Handoffs during a drain (chained drains), with the packaged jar: a slow request held on
 * generation 1 outlives three handoffs and is answered correctly, while a keep-alive load goes on
 * with no failed request and every id arriving exactly once; the counters of the generation that
 * serves at the end are the sum of all four (no reset, nothing twice).
 *
 * <p>Without chained drains generation 2 refuses generation 3 ({@code PREDECESSOR_DRAINING}) for as
 * long as the held request lasts: {@code OutgoingHandoff.Session#chainProblem} is what lets it in;
 * {@code ownDrainEnded}'s wait for the predecessor is what brings generation 1's late counts to
 * generation 4.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class ChainedDrainTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int WORKERS = 8;

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;

  @AfterEach
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void aRequestHeldOnGenerationOneOutlivesThreeHandoffsUnderLoadAndTheCountersAddUp()
      throws Exception {
    Path config = upstreamAndConfig();
    List<BatonProcess> generations = new ArrayList<>();
    generations.add(fixture.start(config));
    ServingLine first = generations.get(0).awaitServing(WAIT);
    InetSocketAddress web = first.listener("web");
    InetSocketAddress admin =
        first.admin(); // handed over with the rest: the same address throughout

    RawHttp slow = new RawHttp(web);
    try {
      slow.send("GET /hold/long-on-generation-1 HTTP/1.1\r\nHost: t\r\n\r\n");
      await().atMost(WAIT).until(() -> upstream.heldRequests() == 1);

      LoadClient load =
          LoadClient.builder(web.getHostString(), web.getPort())
              .workers(WORKERS)
              .mode(LoadClient.Mode.KEEP_ALIVE)
              .maxDuration(Duration.ofMinutes(3))
              .build();
      List<Double> requestsTotal = new ArrayList<>();
      load.start();
      LoadResult result;
      try {
        for (int generation = 2; generation <= 4; generation++) {
          long before = load.result().ok();
          requestsTotal.add(requestsAnswered(admin));
          BatonProcess next = fixture.start(config);
          assertThat(next.awaitServing(WAIT).generation())
              .as(
                  "generation %d takes over while generation 1 still holds the slow request",
                  generation)
              .isEqualTo(generation);
          generations.get(generation - 2).awaitLogLine("phase SERVING -> DRAINING", WAIT);
          generations.add(next);
          requestsTotal.add(requestsAnswered(admin));
          await().atMost(WAIT).until(() -> load.result().ok() > before + WORKERS);
        }
        BatonProcess fourth = generations.get(3);
        assertThat(generations)
            .as("every generation lives: 1 holds the request, 2 and 3 wait for it")
            .allMatch(BatonProcess::isAlive);
        await()
            .atMost(WAIT)
            .untilAsserted(
                () -> {
                  assertThat(Admin.sample(admin, "baton_predecessors_draining")).isEqualTo(3.0);
                  assertThat(Admin.sample(admin, "baton_parent_requests_active"))
                      .as("the held request, on generation 1")
                      .isGreaterThanOrEqualTo(1.0);
                });
        BatonProcess status = fixture.cli("status");
        assertThat(status.awaitExit(WAIT)).isZero();
        assertThat(status.stdoutText())
            .contains("generation 4")
            .contains("predecessors draining: 3")
            .contains("generation 1 (pid " + generations.get(0).pid() + ") draining")
            .contains("generation 3 (pid " + generations.get(2).pid() + ") draining");
        assertThat(generations.get(0).stderrText())
            .contains("SUCCESSOR_TOOK_OVER")
            .doesNotContain("rolling back");

        upstream.releaseHeld();
        RawHttp.Response held = slow.read();
        assertThat(held.status()).isEqualTo(200);
        assertThat(held.bodyText()).isEqualTo("held long-on-generation-1\n");
        assertThat(held.header("x-baton-generation"))
            .as("answered by the generation that read it")
            .isEqualTo("1");
        slow.close(); // its last connection: generation 1's drain ends (closed again in finally:
        // harmless)

        for (int g = 0; g < 3; g++) {
          assertThat(generations.get(g).awaitExit(WAIT))
              .as("exit code of generation %d", g + 1)
              .isZero();
        }
        assertThat(fourth.isAlive()).isTrue();
        assertThat(Admin.readyStatus(admin)).isEqualTo(200);
        await().atMost(WAIT).until(() -> Admin.sample(admin, "baton_predecessors_draining") == 0.0);
        long okBefore = load.result().ok();
        await().atMost(WAIT).until(() -> load.result().ok() > okBefore + WORKERS);
      } finally {
        load.stop();
      }
      result = load.awaitResult(WAIT);

      assertThat(result.failed())
          .as("failed requests across the chained handoffs: %s", result)
          .isZero();
      assertThat(result.ok()).isEqualTo(load.idsSent().size());
      Map<String, Integer> arrived = upstream.idCounts();
      Set<String> expected = new HashSet<>(load.idsSent());
      expected.add("long-on-generation-1");
      assertThat(arrived.keySet())
          .as("every id sent arrived at the upstream, and nothing else")
          .isEqualTo(expected);
      assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
      assertThat(result.perGeneration().keySet()).contains("1", "4");

      // Every request was answered by some generation and counted by it; the counts reached
      // generation 4 one hop at a time. A request is counted when its response's write completes,
      // a moment after the client may have read it: wait for the count to catch up, then compare.
      double answered = arrived.size();
      await().atMost(WAIT).until(() -> requestsAnswered(admin) >= answered);
      assertThat(requestsAnswered(admin))
          .as("baton_requests_total on generation 4 = every request of all four, once")
          .isEqualTo(answered);
      requestsTotal.add(requestsAnswered(admin));
      assertThat(requestsTotal)
          .as("baton_requests_total, scraped before and after each handoff: never a reset")
          .isSorted();
      System.out.println(
          "chained drains: 3 handoffs during one held request; "
              + result
              + "; baton_requests_total scraped: "
              + requestsTotal);
    } finally {
      slow.close();
    }
  }

  /**
   * SIGTERM to the active generation while its predecessor drains stops the service: the
   * predecessor is told HandedOn(STOPPING) and, when the active one has exited, drains on instead
   * of rolling back (before chained drains it resumed accepting). Without {@code handoff.stopping}
   * in {@code SidecarServer.drainAndStop}, generation 1 logs "rolling back" and serves again.
   */
  @Test
  void sigtermToTheActiveGenerationWhileItsPredecessorDrainsStopsBothWithoutARollback()
      throws Exception {
    Path config = upstreamAndConfig();
    BatonProcess first = fixture.start(config);
    InetSocketAddress web = first.awaitServing(WAIT).listener("web");
    try (RawHttp slow = new RawHttp(web)) {
      slow.send("GET /hold/slow-across-sigterm HTTP/1.1\r\nHost: t\r\n\r\n");
      await().atMost(WAIT).until(() -> upstream.heldRequests() == 1);
      BatonProcess second = fixture.start(config);
      assertThat(second.awaitServing(WAIT).generation()).isEqualTo(2);
      first.awaitLogLine("phase SERVING -> DRAINING", WAIT);

      second.signal("TERM");

      first.awaitLogLine("the successor said STOPPING", WAIT);
      assertThat(second.awaitExit(WAIT)).as("exit code of the SIGTERMed generation").isZero();
      first.awaitLogLine("closed reconfig.sock after HandedOn; no rollback", WAIT);
      assertThat(first.isAlive()).as("generation 1 still drains the held request").isTrue();
      upstream.releaseHeld();
      RawHttp.Response held = slow.read();
      assertThat(held.status()).isEqualTo(200);
      assertThat(held.header("x-baton-generation")).isEqualTo("1");
    }
    assertThat(first.awaitExit(WAIT)).isZero();
    assertThat(first.stderrText())
        .doesNotContain("rolling back")
        .doesNotContain("phase DRAINING -> SERVING");
    assertThat(upstream.idCounts()).containsExactly(Map.entry("slow-across-sigterm", 1));
    // Nobody serves the run directory any more: the next start is a cold start.
    assertThat(fixture.start(config).awaitServing(WAIT).generation()).isEqualTo(1);
  }

  /** The sum of {@code baton_requests_total} over its series, as a Prometheus reader sees it. */
  private static double requestsAnswered(InetSocketAddress admin) throws IOException {
    return Admin.metrics(admin)
        .lines()
        .filter(l -> l.startsWith("baton_requests_total{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /**
   * A test upstream and a config whose drain and request timeout outlast a request held across
   * handoffs.
   */
  private Path upstreamAndConfig() {
    upstream = TestUpstream.start(0);
    return fixture
        .config()
        .servingHeader(true)
        .drainTimeout("120s")
        .httpListener("web", "127.0.0.1:0", "backend")
        // The held request lasts as long as the test needs: longer than the default request timeout
        // on a slow machine.
        .clusterWithRequestTimeout("backend", "120s", "127.0.0.1:" + upstream.port())
        .write();
  }
}
