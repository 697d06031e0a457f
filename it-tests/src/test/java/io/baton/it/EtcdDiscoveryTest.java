package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.sidecar.testsupport.EtcdProcess;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A cluster whose members come from a real etcd (Debian's etcd-server, started on loopback by the
 * test), nginx-upsync style, through the packaged jar: members change under load, etcd goes away
 * and comes back, Baton starts cold without etcd, and generations hand the members on.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class EtcdDiscoveryTest {

  private static final String PREFIX = "/baton/clusters/backend/";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final BatonFixture fixture = new BatonFixture();
  private final List<TestUpstream> upstreams = new ArrayList<>();
  private EtcdProcess etcd;
  private LoadClient load;

  @BeforeEach
  void startEtcd() {
    etcd = EtcdProcess.start();
  }

  @AfterEach
  void cleanUp() {
    if (load != null) {
      load.stop();
    }
    fixture.close();
    upstreams.forEach(TestUpstream::close);
    if (etcd != null) {
      etcd.close();
    }
  }

  private TestUpstream upstream() {
    TestUpstream u = TestUpstream.start(0);
    upstreams.add(u);
    return u;
  }

  private static String member(TestUpstream u) {
    return "127.0.0.1:" + u.port();
  }

  private static long requestsAt(TestUpstream u) {
    return u.idCounts().values().stream().mapToLong(Integer::longValue).sum();
  }

  private Path config(Path dump, boolean strongDependency) {
    return fixture
        .config()
        .servingHeader(true)
        .httpListener("web", "127.0.0.1:0", "backend")
        .discoveredCluster(
            "backend", etcd.endpoint().toString(), PREFIX, dump, strongDependency, "2s")
        .write();
  }

  private static JsonNode clusters(InetSocketAddress admin) throws Exception {
    RawHttp.Response r = Admin.get(admin, "/clusters");
    assertThat(r.status()).isEqualTo(200);
    return JSON.readTree(r.bodyText()).get("clusters").get(0);
  }

  private static List<String> memberAddresses(JsonNode cluster) {
    return StreamSupport.stream(cluster.get("members").spliterator(), false)
        .map(m -> m.get("address").asText())
        .toList();
  }

  private LoadClient startLoad(ServingLine serving, int workers) {
    InetSocketAddress web = serving.listener("web");
    load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(workers)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(3))
            .build();
    load.start();
    return load;
  }

  /** Stops the load and checks the promise: nothing failed, every id arrived exactly once. */
  private LoadResult stopLoadAndCheckNothingLost() {
    load.stop();
    LoadResult result = load.awaitResult(Duration.ofSeconds(60));
    assertThat(result.failed()).as("failed requests: %s", result).isZero();
    Map<String, Integer> arrived = new HashMap<>();
    upstreams.forEach(u -> u.idCounts().forEach((id, n) -> arrived.merge(id, n, Integer::sum)));
    assertThat(arrived.keySet())
        .as("every id sent arrived at one of the upstreams, and nothing else")
        .isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
    return result;
  }

  private void awaitMoreRequests(long more) {
    long target = load.result().ok() + more;
    await().atMost(WAIT).until(() -> load.result().ok() >= target);
  }

  @Test
  void membersAddedAndRemovedInEtcdUnderLoadLoseNoRequest() throws Exception {
    TestUpstream a = upstream();
    TestUpstream b = upstream();
    etcd.put(PREFIX + member(a), "");
    Generations generations = new Generations(fixture, config(null, false));
    ServingLine serving = generations.start();
    startLoad(serving, 8);
    awaitMoreRequests(200);
    assertThat(requestsAt(b)).isZero();

    long putAt = System.nanoTime();
    etcd.put(PREFIX + member(b), "{\"weight\":1}");
    await().atMost(WAIT).until(() -> requestsAt(b) > 0);
    System.out.printf(
        "a member added in etcd got its first request after %d ms%n",
        (System.nanoTime() - putAt) / 1_000_000);

    etcd.delete(PREFIX + member(a));
    await()
        .atMost(WAIT)
        .until(() -> memberAddresses(clusters(serving.admin())).equals(List.of(member(b))));
    // Requests chosen before the removal arrive at a promptly; after these, none can be on the way.
    awaitMoreRequests(200);
    long atRemoved = requestsAt(a);
    awaitMoreRequests(1000);
    assertThat(requestsAt(a))
        .as("requests reaching the removed member after it was gone")
        .isEqualTo(atRemoved);

    LoadResult result = stopLoadAndCheckNothingLost();
    assertThat(requestsAt(a) + requestsAt(b)).isEqualTo(result.ok());
    assertThat(Admin.sample(serving.admin(), "baton_discovery_updates_total{cluster=\"backend\"}"))
        .as("the read of the prefix, then two watch batches")
        .isEqualTo(3.0);
  }

  @Test
  void weightsFromEtcdSplitRequestsExactly() throws Exception {
    TestUpstream a = upstream();
    TestUpstream b = upstream();
    etcd.put(PREFIX + "a", "{\"address\":\"" + member(a) + "\",\"weight\":3}");
    etcd.put(PREFIX + "b", member(b));
    Generations generations = new Generations(fixture, config(null, false));
    ServingLine serving = generations.start();
    InetSocketAddress web = serving.listener("web");
    load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(4)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxRequests(400)
            .maxDuration(Duration.ofMinutes(1))
            .build();
    load.start();
    await().atMost(WAIT).until(load::isFinished);
    stopLoadAndCheckNothingLost();
    assertThat(requestsAt(a)).isEqualTo(300);
    assertThat(requestsAt(b)).isEqualTo(100);
  }

  @Test
  void etcdRestartKeepsTheMembersAndChangesMadeWhileBatonWasAwayAreSeen() throws Exception {
    TestUpstream a = upstream();
    TestUpstream b = upstream();
    etcd.put(PREFIX + member(a), "");
    Generations generations = new Generations(fixture, config(null, false));
    ServingLine serving = generations.start();
    startLoad(serving, 4);

    etcd.stop();
    BatonProcess baton = generations.active();
    baton.awaitLogLine("etcd unavailable", WAIT);
    awaitMoreRequests(200);
    assertThat(memberAddresses(clusters(serving.admin())))
        .as("members kept while etcd is away")
        .containsExactly(member(a));
    assertThat(clusters(serving.admin()).get("discovery").get("etcd").get("connected").asBoolean())
        .isFalse();

    // Written while Baton cannot see etcd (it runs on another port meanwhile): Baton must learn it
    // from its resumed watch, which replays what changed after its last revision.
    int batonsPort = etcd.clientPort();
    etcd.restart(EtcdProcess.freePort());
    etcd.put(PREFIX + member(b), "");
    etcd.stop();
    awaitMoreRequests(100);
    assertThat(requestsAt(b)).isZero();
    etcd.restart(batonsPort);
    await().atMost(WAIT).until(() -> requestsAt(b) > 0);
    assertThat(baton.stderrText().split("read of " + PREFIX, -1).length - 1)
        .as("the prefix was read once, at the start: the change came from the resumed watch")
        .isEqualTo(1);
    assertThat(clusters(serving.admin()).get("discovery").get("etcd").get("connected").asBoolean())
        .isTrue();
    assertThat(
            Admin.sample(
                serving.admin(),
                "baton_discovery_errors_total{cluster=\"backend\",reason=\"unavailable\"}"))
        .as("one outage, reported once")
        .isEqualTo(1.0);
    stopLoadAndCheckNothingLost();
  }

  @Test
  void coldStartWithEtcdDownServesTheDumpedMembers() throws Exception {
    TestUpstream a = upstream();
    etcd.put(PREFIX + member(a), "{\"weight\":2}");
    Path dump = fixture.dir().resolve("state/backend.json");
    Path config = config(dump, false);
    BatonProcess first = fixture.start(config);
    first.awaitServing(WAIT);
    await().atMost(WAIT).until(() -> Files.exists(dump));
    first.signal("TERM");
    assertThat(first.awaitExit(WAIT)).isZero();
    etcd.stop();

    BatonProcess second = fixture.start(config);
    ServingLine serving = second.awaitServing(WAIT);
    assertThat(second.logContains("serving the 1 member(s) of the dump " + dump)).isTrue();
    JsonNode cluster = clusters(serving.admin());
    assertThat(cluster.get("source").asText()).isEqualTo("dump");
    assertThat(memberAddresses(cluster)).containsExactly(member(a));
    assertThat(cluster.get("members").get(0).get("weight").asInt()).isEqualTo(2);
    startLoad(serving, 2);
    awaitMoreRequests(100);

    etcd.restart();
    await()
        .atMost(WAIT)
        .until(() -> clusters(serving.admin()).get("source").asText().equals("etcd"));
    stopLoadAndCheckNothingLost();
  }

  @Test
  void coldStartWithEtcdDownAndStrongDependencyExitsNonZeroWithTheReason() throws Exception {
    etcd.stop();
    BatonProcess baton = fixture.start(config(fixture.dir().resolve("backend.json"), true));
    assertThat(baton.awaitExit(WAIT)).isNotZero();
    assertThat(baton.stderrText() + baton.stdoutText())
        .contains("cluster backend: etcd [" + etcd.endpoint() + "] did not answer within 2s")
        .contains("discovery.strongDependency is true: refusing to start without its members");
  }

  @Test
  void handoffsWhileMembersChangeServeThePredecessorsMembersFromTheFirstRequest() throws Exception {
    List<TestUpstream> pool = List.of(upstream(), upstream(), upstream(), upstream());
    etcd.put(PREFIX + member(pool.get(0)), "");
    Generations generations = new Generations(fixture, config(null, false));
    ServingLine serving = generations.start();
    startLoad(serving, 8);
    for (int i = 1; i <= 3; i++) {
      TestUpstream joining = pool.get(i);
      TestUpstream leaving = pool.get(i - 1);
      etcd.put(PREFIX + member(joining), "");
      long revision = clusterRevisionOnceItHas(serving.admin(), member(joining));
      etcd.delete(PREFIX + member(leaving));
      serving = generations.handOff();

      JsonNode cluster = clusters(serving.admin());
      long carried = cluster.get("discovery").get("revision").asLong();
      assertThat(carried)
          .as("generation %d starts at its predecessor's revision or later", i + 1)
          .isGreaterThanOrEqualTo(revision);
      assertThat(generations.active().logContains("member(s) from the predecessor")).isTrue();
      ServingLine now = serving;
      await()
          .atMost(WAIT)
          .until(() -> memberAddresses(clusters(now.admin())).equals(List.of(member(joining))));
      awaitMoreRequests(200);
    }
    LoadResult result = stopLoadAndCheckNothingLost();
    assertThat(result.servedBy(4)).as("served by the last generation").isPositive();
    long last = requestsAt(pool.get(3));
    assertThat(last)
        .as("the member every generation learned last serves the end of the load")
        .isPositive();
  }

  private static long clusterRevisionOnceItHas(InetSocketAddress admin, String address)
      throws Exception {
    await().atMost(WAIT).until(() -> memberAddresses(clusters(admin)).contains(address));
    return clusters(admin).get("discovery").get("revision").asLong();
  }

  @Test
  void badKeysAreSkippedWithALogLineAndACounterWhileTheOthersServe() throws Exception {
    TestUpstream a = upstream();
    etcd.put(PREFIX + member(a), "");
    etcd.put(PREFIX + "not-an-address", "");
    etcd.put(PREFIX + "127.0.0.1:9", "{\"weight\":");
    Generations generations = new Generations(fixture, config(null, false));
    ServingLine serving = generations.start();
    startLoad(serving, 4);
    awaitMoreRequests(200);
    etcd.put(PREFIX + "127.0.0.1:10", "{\"down\":\"maybe\"}");

    await()
        .atMost(WAIT)
        .until(() -> clusters(serving.admin()).get("discovery").get("rejected").size() == 3);
    JsonNode cluster = clusters(serving.admin());
    assertThat(memberAddresses(cluster)).containsExactly(member(a));
    Map<String, String> rejected = new TreeMap<>();
    cluster
        .get("discovery")
        .get("rejected")
        .forEach(r -> rejected.put(r.get("key").asText(), r.get("reason").asText()));
    assertThat(rejected)
        .containsOnlyKeys(
            PREFIX + "not-an-address", PREFIX + "127.0.0.1:9", PREFIX + "127.0.0.1:10");
    assertThat(rejected.get(PREFIX + "127.0.0.1:9")).startsWith("value is not valid JSON (");
    assertThat(rejected.get(PREFIX + "127.0.0.1:10"))
        .isEqualTo("down: \"maybe\" (expected true/false or 1/0)");
    assertThat(
            Admin.sample(
                serving.admin(),
                "baton_discovery_errors_total{cluster=\"backend\",reason=\"bad_member\"}"))
        .isEqualTo(3.0);
    BatonProcess baton = generations.active();
    assertThat(baton.logContains("key " + PREFIX + "not-an-address is not a member, skipped"))
        .isTrue();

    ServingLine next = generations.handOff();
    assertThat(clusters(next.admin()).get("discovery").get("rejected").size())
        .as("the successor knows the rejected keys from its predecessor")
        .isEqualTo(3);
    assertThat(
            Admin.sample(
                next.admin(),
                "baton_discovery_errors_total{cluster=\"backend\",reason=\"bad_member\"}"))
        .as("carried over, and not counted again")
        .isEqualTo(3.0);
    awaitMoreRequests(200);
    stopLoadAndCheckNothingLost();
  }
}
