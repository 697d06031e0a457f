package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.ExternalTool;
import io.baton.it.support.Generations;
import io.baton.it.support.StrictManifests;
import io.baton.sidecar.server.ServingLine;
import io.baton.sidecar.testsupport.EtcdProcess;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.H2LoadClient;
import io.baton.testkit.load.H2LoadResult;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The alert rules and the dashboard in deploy/ against a live /metrics: a query on a metric Baton
 * does not export is an alert that never fires and a panel that stays empty, with no error
 * anywhere. One Baton has served requests and handed off once, so the handoff metrics exist; one of
 * its clusters takes its members from a real etcd, so the discovery metrics exist too. Each
 * generation also served h2c streams and HTTP/2 over a TLS listener, so the protocol and TLS series
 * are live ones, not only the zeros every HTTP (TLS) listener registers when created.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(DumpLogsOnFailure.class)
class DeployMetricsTest {

  private static final Pattern METRIC = Pattern.compile("\\bbaton_[a-z0-9_]+");

  /** A sample line's metric name: the exposition's first token, up to labels or the value. */
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE);

  private static final Pattern FAMILY = Pattern.compile("^# TYPE (\\S+) ", Pattern.MULTILINE);
  private static final int H2_STREAMS = 4;

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private EtcdProcess etcd;
  private TestCertificates.Pair certificate;
  private String metrics;

  @BeforeAll
  void handOffOnceUnderRequests() throws IOException, InterruptedException {
    upstream = TestUpstream.start(0);
    etcd = EtcdProcess.start();
    etcd.put("/baton/clusters/catalog/127.0.0.1:" + upstream.port(), "");
    certificate = TestCertificates.selfSigned(fixture.dir(), "secure", "secure.localhost");
    Path config =
        fixture
            .webProxyConfig(upstream.port())
            .httpListener("api", "127.0.0.1:0", "catalog")
            .httpsListener(
                "secure",
                "127.0.0.1:0",
                "backend",
                certificate.certificate(),
                certificate.privateKey())
            .discoveredCluster(
                "catalog",
                etcd.endpoint().toString(),
                "/baton/clusters/catalog/",
                null,
                false,
                "5s")
            .write();
    Generations generations = new Generations(fixture, config);
    ServingLine first = generations.start();
    serve(first);
    ServingLine second = generations.handOff();
    serve(second);
    metrics = Admin.metrics(second.admin());
  }

  @AfterAll
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  @Test
  void everyMetricTheAlertRulesAndTheDashboardQueryIsExported() throws IOException {
    Set<String> queried = new TreeSet<>();
    for (JsonNode group :
        StrictManifests.documents(Files.readString(DeployManifestsTest.RULES))
            .get(0)
            .path("groups")) {
      group.path("rules").forEach(rule -> queried.addAll(metricNames(rule.path("expr").asText())));
    }
    int fromRules = queried.size();
    JsonNode dashboard =
        new ObjectMapper()
            .readTree(DeployManifestsTest.DEPLOY.resolve("grafana/baton-dashboard.json").toFile());
    // Panel targets, annotation queries and template variables: every field that holds PromQL.
    for (String field : new String[] {"expr", "query", "definition"}) {
      dashboard
          .findValues(field)
          .forEach(
              v ->
                  queried.addAll(
                      metricNames(v.isTextual() ? v.asText() : v.path("query").asText())));
    }
    assertThat(fromRules).as("metrics the rules query").isPositive();
    assertThat(queried.size())
        .as("the dashboard queries more than the rules")
        .isGreaterThan(fromRules);
    assertThat(queried)
        .as("the dashboard's panels on protocols, HTTP/2 drains, TLS and chained drains")
        .contains(
            "baton_requests_total",
            "baton_requests_active",
            "baton_http2_goaway_sent_total",
            "baton_http2_streams_refused_total",
            "baton_http2_drain_streams_completed_total",
            "baton_tls_handshakes_total",
            "baton_tls_resumptions_total",
            "baton_predecessors_draining",
            "baton_upstream_errors_total");

    Set<String> exported = new TreeSet<>();
    SAMPLE.matcher(metrics).results().forEach(m -> exported.add(m.group(1)));
    FAMILY.matcher(metrics).results().forEach(m -> exported.add(m.group(1)));
    // A histogram's or summary's _bucket/_sum/_count samples belong to its family.
    for (String name : queried) {
      String family = name.replaceFirst("_(bucket|sum|count)$", "");
      assertThat(exported.contains(name) || exported.contains(family))
          .as(
              "%s, queried in deploy/, is exported by a Baton that handed off once; exported: %s",
              name, exported)
          .isTrue();
    }
  }

  /** The h2c and TLS clients' streams and handshakes, counted once per generation and carried. */
  @Test
  void theScrapeCountsTheHttp2StreamsAndTlsHandshakesOfBothGenerations() {
    assertThat(sample("baton_requests_total{code_class=\"2xx\",listener=\"web\",protocol=\"h2\"}"))
        .as("h2c streams on web")
        .isGreaterThanOrEqualTo(2 * H2_STREAMS);
    assertThat(
            sample("baton_requests_total{code_class=\"2xx\",listener=\"secure\",protocol=\"h2\"}"))
        .as("HTTP/2 streams over TLS")
        .isGreaterThanOrEqualTo(2 * H2_STREAMS);
    assertThat(sample("baton_tls_handshakes_total{listener=\"secure\",result=\"ok\"}"))
        .isGreaterThanOrEqualTo(2);
    assertThat(sample("baton_tls_handshakes_total{listener=\"secure\",result=\"failed\"}"))
        .isZero();
    assertThat(sample("baton_requests_active{listener=\"web\",protocol=\"h2\"}")).isNotNegative();
    // Fails without ListenerAssembly's exportHttp2() call: api served no HTTP/2 stream.
    assertThat(sample("baton_http2_streams_refused_total{listener=\"api\"}"))
        .as("a listener no HTTP/2 client used exports its h2 series at 0")
        .isZero();
  }

  @Test
  void promtoolCheckMetricsReportsNothingOnBatonsMetrics() {
    ExternalTool.Result lint =
        ExternalTool.run(
            fixture.dir(), metrics, Duration.ofSeconds(60), "promtool", "check", "metrics");
    assertThat(lint.output()).as("promtool check metrics on /metrics").isEmpty();
    assertThat(lint.exitCode()).isZero();
  }

  private static Set<String> metricNames(String promql) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(promql);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  /** The value of one sample line of the scrape, {@code series} written as Prometheus prints it. */
  private double sample(String series) {
    return metrics
        .lines()
        .filter(l -> l.startsWith(series + " "))
        .findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim()))
        .orElseThrow(() -> new AssertionError(series + ": not in the scrape:\n" + metrics));
  }

  /** HTTP/1.1 on web and api, h2c streams on web, HTTP/2 over TLS on secure. */
  private void serve(ServingLine generation) throws IOException, InterruptedException {
    get(generation.listener("web"));
    get(generation.listener("api"));
    h2(
        H2LoadClient.builder(
            generation.listener("web").getHostString(), generation.listener("web").getPort()));
    h2(
        H2LoadClient.builder(
                generation.listener("secure").getHostString(),
                generation.listener("secure").getPort())
            .tls(certificate.certificate(), "localhost"));
  }

  private static void h2(H2LoadClient.Builder client) throws InterruptedException {
    H2LoadResult result =
        client
            .connections(1)
            .streams(2)
            .maxRequests(H2_STREAMS)
            .maxDuration(Duration.ofSeconds(30))
            .build()
            .start()
            .awaitResult(Duration.ofSeconds(40));
    assertThat(result.finished()).as("the streams ended: %s", result).isTrue();
    assertThat(result.failed()).as("failed streams: %s", result).isZero();
    assertThat(result.completed()).as("%s", result).isEqualTo(H2_STREAMS);
  }

  private static void get(InetSocketAddress web) throws IOException {
    try (RawHttp http = new RawHttp(web)) {
      http.send("GET /load/deploy-metrics HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n");
      assertThat(http.read().status()).isEqualTo(200);
    }
  }
}
