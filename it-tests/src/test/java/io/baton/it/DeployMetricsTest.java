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
import io.baton.sidecar.demo.RawHttp;
import io.baton.sidecar.demo.ServingLine;
import io.baton.sidecar.demo.TestUpstream;
import io.baton.sidecar.testsupport.EtcdProcess;
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
 * The alert rules and the dashboard in deploy/ against a live /metrics: a query on a metric
 * Baton does not export is an alert that never fires and a panel that stays empty, with no error
 * anywhere. One Baton has served requests and handed off once, so the handoff metrics exist; one
 * of its clusters takes its members from a real etcd, so the discovery metrics exist too.
 */
@Timeout(180)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(DumpLogsOnFailure.class)
class DeployMetricsTest {

  private static final Pattern METRIC = Pattern.compile("\\bbaton_[a-z0-9_]+");
  /** A sample line's metric name: the exposition's first token, up to labels or the value. */
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE);
  private static final Pattern FAMILY = Pattern.compile("^# TYPE (\\S+) ", Pattern.MULTILINE);

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private EtcdProcess etcd;
  private String metrics;

  @BeforeAll
  void handOffOnceUnderRequests() throws IOException {
    upstream = TestUpstream.start(0);
    etcd = EtcdProcess.start();
    etcd.put("/baton/clusters/catalog/127.0.0.1:" + upstream.port(), "");
    Path config = fixture.webProxyConfig(upstream.port())
        .httpListener("api", "127.0.0.1:0", "catalog")
        .discoveredCluster("catalog", etcd.endpoint().toString(), "/baton/clusters/catalog/", null, false, "5s")
        .write();
    Generations generations = new Generations(fixture, config);
    ServingLine first = generations.start();
    get(first.listener("web"));
    get(first.listener("api"));
    ServingLine second = generations.handOff();
    get(second.listener("web"));
    get(second.listener("api"));
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
    for (JsonNode group : StrictManifests.documents(Files.readString(DeployManifestsTest.RULES)).get(0).path("groups")) {
      group.path("rules").forEach(rule -> queried.addAll(metricNames(rule.path("expr").asText())));
    }
    int fromRules = queried.size();
    JsonNode dashboard = new ObjectMapper().readTree(DeployManifestsTest.DEPLOY.resolve("grafana/baton-dashboard.json").toFile());
    // Panel targets, annotation queries and template variables: every field that holds PromQL.
    for (String field : new String[] {"expr", "query", "definition"}) {
      dashboard.findValues(field).forEach(v -> queried.addAll(metricNames(v.isTextual() ? v.asText() : v.path("query").asText())));
    }
    assertThat(fromRules).as("metrics the rules query").isPositive();
    assertThat(queried.size()).as("the dashboard queries more than the rules").isGreaterThan(fromRules);

    Set<String> exported = new TreeSet<>();
    SAMPLE.matcher(metrics).results().forEach(m -> exported.add(m.group(1)));
    FAMILY.matcher(metrics).results().forEach(m -> exported.add(m.group(1)));
    // A histogram's or summary's _bucket/_sum/_count samples belong to its family.
    for (String name : queried) {
      String family = name.replaceFirst("_(bucket|sum|count)$", "");
      assertThat(exported.contains(name) || exported.contains(family))
          .as("%s, queried in deploy/, is exported by a Baton that handed off once; exported: %s", name, exported)
          .isTrue();
    }
  }

  @Test
  void promtoolCheckMetricsReportsNothingOnBatonsMetrics() {
    ExternalTool.Result lint = ExternalTool.run(fixture.dir(), metrics, Duration.ofSeconds(60), "promtool", "check", "metrics");
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

  private static void get(InetSocketAddress web) throws IOException {
    try (RawHttp http = new RawHttp(web)) {
      http.send("GET /load/deploy-metrics HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n");
      assertThat(http.read().status()).isEqualTo(200);
    }
  }
}
