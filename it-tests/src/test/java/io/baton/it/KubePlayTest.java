package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.it.support.Admin;
import io.baton.it.support.ContainerImages;
import io.baton.it.support.Podman;
import io.baton.it.support.StrictManifests;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/kubernetes/baton-deployment.yaml} itself, run by {@code podman kube play}: the
 * ConfigMap, the Deployment's pod with the application and both Baton slots, their security
 * settings, the emptyDir run directory. What podman 4.3 does not do, and this test therefore
 * changes in a copy of the manifest or plays by hand, is said where it happens:
 *
 * <ul>
 *   <li>each replica becomes a pod on this one host, and every {@code containerPort} is published
 *       on the host under the same number on all interfaces: the copy has {@code replicas: 1} and
 *       pins each port to 127.0.0.1 and a free host port;
 *   <li>{@code postStart} hooks are not run, so both slots start at once: Baton's arrival lock
 *       makes one cold-start and the other take over (no container fails), which the test checks;
 *   <li>a hot upgrade (a new image for the standby slot) is a restart of that slot's container;
 *   <li>the Service is ignored (there is no cluster network), readiness probes do not gate
 *       anything.
 * </ul>
 *
 * The images are tagged with the manifest's names ({@code registry.example/...}) for the run and
 * untagged after it.
 */
@Timeout(900)
class KubePlayTest {

  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String BATON_IMAGE = "registry.example/baton:0.1.0";
  private static final String APP_IMAGE = "registry.example/app:1.0";
  private static final Pattern GENERATION =
      Pattern.compile("^baton serving generation=(\\d+) ", Pattern.MULTILINE);

  @TempDir Path temp;
  private Podman podman;
  private Path played;
  private LoadClient keepAlive;
  private LoadClient close;

  @BeforeEach
  void images() throws IOException {
    ContainerImages.ensureBuilt();
    podman = new Podman("KubePlayTest");
    podman.podman(Podman.DEFAULT_TIMEOUT, List.of("tag", ContainerImages.BATON, BATON_IMAGE));
    // The manifest's application: the test upstream on port 9000, in the Baton image with the test
    // kit.
    Path app = temp.resolve("app");
    Files.createDirectories(app);
    Files.writeString(
        app.resolve("Containerfile"),
        """
        FROM %s
        ENTRYPOINT ["/usr/local/bin/baton"]
        CMD ["test-upstream", "--port", "9000"]
        """
            .formatted(ContainerImages.TESTKIT));
    podman.podman(
        Duration.ofMinutes(3),
        List.of("build", "--pull=never", "--network", "none", "-t", APP_IMAGE, app.toString()));
  }

  @AfterEach
  void cleanUp() {
    try {
      if (keepAlive != null) {
        keepAlive.stop();
        close.stop();
      }
      if (played != null) {
        podman.tryPodman(Duration.ofMinutes(2), List.of("kube", "down", played.toString()));
        podman.tryPodman(
            Podman.DEFAULT_TIMEOUT, List.of("volume", "rm", "--force", "baton-config"));
      }
      podman.tryPodman(
          Podman.DEFAULT_TIMEOUT, List.of("untag", ContainerImages.BATON, BATON_IMAGE));
      podman.tryPodman(Podman.DEFAULT_TIMEOUT, List.of("rmi", "--ignore", APP_IMAGE));
    } finally {
      podman.close();
    }
  }

  @Test
  void theDeploymentPlaysAndItsSlotsHandOverTwiceUnderLoadWithoutAFailedRequest() throws Exception {
    int webPort = freePort();
    int adminPort = freePort();
    played = copyForPodman(Map.of(8080, webPort, 9901, adminPort, 9000, freePort()));
    podman.podman(Duration.ofMinutes(3), List.of("kube", "play", played.toString()));
    String pod = "app-with-baton-pod-0";
    String slotA = pod + "-baton-a";
    String slotB = pod + "-baton-b";

    // Both slots started at once (no postStart ordering): one serves generation 1, the other took
    // over.
    await().atMost(WAIT).until(() -> generationIn(slotA) + generationIn(slotB) == 3);
    String active = generationIn(slotA) == 2 ? slotA : slotB;
    String standby = active.equals(slotA) ? slotB : slotA;
    String firstStandby = standby;
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(podman.logs(firstStandby)).contains("standing by"));
    assertThat(podman.inspect(slotA, "{{.Config.User}}"))
        .as("runAsUser/runAsGroup")
        .isEqualTo("10001:10001");
    assertThat(podman.inspect(slotA, "{{.HostConfig.ReadonlyRootfs}}"))
        .as("readOnlyRootFilesystem")
        .isEqualTo("true");
    assertThat(podman.inspect(slotA, "{{.HostConfig.Memory}}"))
        .as("the memory limit, 384Mi")
        .isEqualTo(String.valueOf(384L << 20));
    InetSocketAddress web = new InetSocketAddress("127.0.0.1", webPort);
    InetSocketAddress admin = new InetSocketAddress("127.0.0.1", adminPort);
    assertThat(Admin.readyStatus(admin)).isEqualTo(200);

    keepAlive =
        LoadClient.builder("127.0.0.1", webPort)
            .workers(16)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .idPrefix("ka")
            .maxDuration(Duration.ofMinutes(8))
            .build();
    close =
        LoadClient.builder("127.0.0.1", webPort)
            .workers(8)
            .mode(LoadClient.Mode.CLOSE)
            .idPrefix("cl")
            .maxDuration(Duration.ofMinutes(8))
            .build();
    keepAlive.start();
    close.start();
    for (int generation = 3; generation <= 4; generation++) {
      long before = keepAlive.result().ok() + close.result().ok();
      String previous = active;
      long standbysBefore = standingBy(previous);
      // A hot upgrade of the standby slot: its container restarts, its new process takes over.
      podman.podman(Duration.ofMinutes(2), List.of("restart", "-t", "10", standby));
      String upgraded = standby;
      int expected = generation;
      await().atMost(WAIT).until(() -> generationIn(upgraded) == expected);
      await().atMost(WAIT).until(() -> standingBy(previous) > standbysBefore);
      active = standby;
      standby = previous;
      await().atMost(WAIT).until(() -> keepAlive.result().ok() + close.result().ok() > before + 24);
    }
    keepAlive.stop();
    close.stop();
    LoadResult keepAliveResult = keepAlive.awaitResult(WAIT);
    LoadResult closeResult = close.awaitResult(WAIT);
    assertThat(keepAliveResult.failed())
        .as("failed keep-alive requests: %s", keepAliveResult)
        .isZero();
    assertThat(closeResult.failed())
        .as("failed Connection: close requests: %s", closeResult)
        .isZero();
    assertEveryIdOnce(web);
    System.out.println(
        "kube play: 2 slot upgrades; keep-alive " + keepAliveResult + "; close " + closeResult);
  }

  /** How often the container's supervisor said it stands by (its generation handed over). */
  private long standingBy(String container) {
    return podman
        .logs(container)
        .lines()
        .filter(l -> l.contains("standing by until SIGTERM"))
        .count();
  }

  /** The highest generation whose serving line the container printed (0 if none yet). */
  private int generationIn(String container) {
    Matcher m = GENERATION.matcher(podman.logs(container));
    int highest = 0;
    while (m.find()) {
      highest = Math.max(highest, Integer.parseInt(m.group(1)));
    }
    return highest;
  }

  private void assertEveryIdOnce(InetSocketAddress web) throws IOException {
    Set<String> sent = new HashSet<>(keepAlive.idsSent());
    sent.addAll(close.idsSent());
    try (RawHttp http = new RawHttp(web)) {
      http.send("GET /ids HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n");
      Map<String, Integer> arrived = TestUpstream.parseIdCounts(http.read().bodyText());
      assertThat(arrived.keySet())
          .as("every id sent arrived at the application, and nothing else")
          .isEqualTo(sent);
      assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
    }
  }

  /**
   * The manifest with one replica and every container port published on 127.0.0.1 only, at {@code
   * hostPorts}.
   */
  private Path copyForPodman(Map<Integer, Integer> hostPorts) throws IOException {
    List<JsonNode> documents =
        StrictManifests.documents(
            Files.readString(
                DeployManifestsTest.DEPLOY.resolve("kubernetes/baton-deployment.yaml")));
    StringBuilder yaml = new StringBuilder();
    for (JsonNode document : documents) {
      if (document.path("kind").asText().equals("Deployment")) {
        ((ObjectNode) document.path("spec")).put("replicas", 1);
        for (JsonNode container :
            document.path("spec").path("template").path("spec").path("containers")) {
          for (JsonNode port : container.path("ports")) {
            ((ObjectNode) port)
                .put("hostIP", "127.0.0.1")
                .put("hostPort", hostPorts.get(port.path("containerPort").asInt()));
          }
        }
      }
      yaml.append("---\n")
          .append(StrictManifests.YAML.writeValueAsString(document).replaceFirst("^---\n", ""));
    }
    Path copy = temp.resolve("baton-deployment.yaml");
    Files.writeString(copy, yaml);
    return copy;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
