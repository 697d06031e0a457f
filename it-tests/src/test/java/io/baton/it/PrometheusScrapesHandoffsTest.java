package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.it.support.PrometheusServer;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.upstream.TestUpstream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What an operator sees in Prometheus across handoffs: a real Prometheus scrapes the admin listener
 * (handed over with the listeners, so one target throughout) every second while three handoffs
 * happen under load. The generation rises to 4, the successful handoffs count 3, and no counter
 * ever reads lower than before (a reset would show as a spike in every rate()).
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class PrometheusScrapesHandoffsTest {

  private static final int HANDOFFS = 3;
  private static final int CLIENTS = 8;
  private static final Duration SCRAPED = Duration.ofSeconds(30);

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private PrometheusServer prometheus;

  @AfterEach
  void cleanUp() {
    if (prometheus != null) {
      prometheus.close();
    }
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void prometheusSeesGenerationFourThreeSuccessfulHandoffsAndNoCounterResetUnderLoad()
      throws Exception {
    upstream = TestUpstream.start(0);
    Path config = fixture.webProxyConfig(upstream.port()).write();
    Generations generations = new Generations(fixture, config);
    ServingLine first = generations.start();
    prometheus = PrometheusServer.start(fixture.dir().resolve("prometheus"), first.admin());
    awaitPrometheus("baton_generation", 1);
    double successBefore = prometheus.value("baton_handoffs_total{result=\"success\"}");

    InetSocketAddress web = first.listener("web");
    LoadClient load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(CLIENTS)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(3))
            .build();
    load.start();
    try {
      for (int generation = 2; generation <= HANDOFFS + 1; generation++) {
        long before = load.result().ok();
        generations.handOff();
        // Prometheus scraped the new generation, and requests kept succeeding on it: the next
        // handoff happens under load, and a reset between two scrapes could not hide.
        awaitPrometheus("baton_generation", generation);
        await().atMost(SCRAPED).until(() -> load.result().ok() > before + CLIENTS);
      }
      // Scrapes of the last generation while the load still runs.
      double requests = prometheus.value("sum(baton_requests_total)");
      await("Prometheus sees requests after the last handoff")
          .atMost(SCRAPED)
          .until(() -> prometheus.value("sum(baton_requests_total)") > requests);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(Duration.ofSeconds(60));

    assertThat(result.failed())
        .as("failed requests across %d handoffs: %s", HANDOFFS, result)
        .isZero();
    assertThat(upstream.idCounts().keySet())
        .as("every id sent arrived at the upstream")
        .isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(upstream.idCounts().values()).as("and exactly once").allMatch(n -> n == 1);

    awaitPrometheus("baton_handoffs_total{result=\"success\"}", successBefore + HANDOFFS);
    assertThat(prometheus.value("sum(baton_handoffs_total{result!=\"success\"})"))
        .as("no handoff refused, failed or rolled back")
        .isZero();
    assertThat(prometheus.query("baton_requests_total{code_class=\"2xx\"}"))
        .as("the requests series was scraped")
        .isNotEmpty();
    assertThat(prometheus.value("sum(resets(baton_requests_total[10m]))"))
        .as(
            "baton_requests_total never read lower than the scrape before, across %d handoffs",
            HANDOFFS)
        .isZero();
    // One query per counter: resets() drops the metric name, so one query over all would merge
    // series.
    List<String> counters = new ArrayList<>();
    prometheus
        .query("count by (__name__) ({__name__=~\"baton_.+_total\"})")
        .forEach(series -> counters.add(series.path("metric").path("__name__").asText()));
    assertThat(counters)
        .contains(
            "baton_requests_total", "baton_handoffs_total", "baton_connections_accepted_total");
    for (String name : counters) {
      assertThat(prometheus.value("sum(resets(" + name + "[10m]))"))
          .as("%s never read lower either", name)
          .isZero();
    }
    assertThat(prometheus.value("max_over_time(baton_generation[10m])")).isEqualTo(HANDOFFS + 1);
    System.out.println(
        "Prometheus across "
            + HANDOFFS
            + " handoffs: load "
            + result
            + "; counters without a reset: "
            + counters);
  }

  /** Waits until Prometheus's latest sample of {@code promql} (one series) is {@code expected}. */
  private void awaitPrometheus(String promql, double expected) {
    await(promql + " == " + expected + " in Prometheus")
        .atMost(SCRAPED)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () ->
                assertThat(prometheus.value(promql))
                    .as("%s (Prometheus log:\n%s)", promql, prometheus.log())
                    .isEqualTo(expected));
  }
}
