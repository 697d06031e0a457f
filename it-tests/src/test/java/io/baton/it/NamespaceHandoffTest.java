package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.ExternalTool;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each generation in namespaces of its own, as in a pod where every container's process is pid 1
 * and sees its own {@code /proc}: ten handoffs under a keep-alive and a {@code Connection: close}
 * load lose nothing, and after each one exactly one process is active and the run directory holds
 * its files and nothing else.
 *
 * <p>Before instance ids, every generation here was pid 1 and named its sockets {@code
 * reconfig.sock.1.1} and {@code admin-1.sock}: generation 2 bound over generation 1's files,
 * generation 1 deleted them on its way out, {@code reconfig.sock} was never republished, and
 * generation 3 found it stale, cold-started and failed to bind. Naming the control socket by pid
 * again in RunDirectory#newTempControlSocket makes this test fail.
 */
@Timeout(600)
@ExtendWith(DumpLogsOnFailure.class)
class NamespaceHandoffTest {

  private static final int HANDOFFS = 10;
  private static final Duration WAIT = Duration.ofSeconds(60);

  /** A pid namespace (so Baton is pid 1) and a mount namespace with its own /proc. */
  private static final List<String> OWN_PID_NAMESPACE =
      List.of("unshare", "--pid", "--fork", "--kill-child", "--mount-proc");

  /** The same, also in a user namespace of its own (root mapped to root: the same uid). */
  private static final List<String> OWN_USER_AND_PID_NAMESPACE =
      List.of(
          "unshare",
          "--user",
          "--map-root-user",
          "--pid",
          "--fork",
          "--kill-child",
          "--mount-proc");

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
  void tenHandoffsBetweenPidNamespacesLoseNothingAndLeaveOneActiveProcess() throws Exception {
    handOffTenTimesUnderLoad(OWN_PID_NAMESPACE);
  }

  @Test
  void tenHandoffsBetweenUserAndPidNamespacesLoseNothingAndLeaveOneActiveProcess()
      throws Exception {
    handOffTenTimesUnderLoad(OWN_USER_AND_PID_NAMESPACE);
  }

  private void handOffTenTimesUnderLoad(List<String> isolation) throws Exception {
    ExternalTool.require("unshare", "util-linux");
    upstream = TestUpstream.start(0);
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("30s")
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(() -> fixture.startWrapped(isolation, config));
    ServingLine first = generations.start();
    assertThat(first.pid()).as("Baton is pid 1 of its own namespace").isEqualTo(1);
    assertOnlyTheActiveProcessOwnsTheRunDirectory(first);
    InetSocketAddress web = first.listener("web");

    LoadClient keepAlive =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(16)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .idPrefix("ka")
            .maxDuration(Duration.ofMinutes(5))
            .build();
    LoadClient close =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(8)
            .mode(LoadClient.Mode.CLOSE)
            .idPrefix("cl")
            .maxDuration(Duration.ofMinutes(5))
            .build();
    keepAlive.start();
    close.start();
    try {
      for (int i = 1; i <= HANDOFFS; i++) {
        long before = keepAlive.result().ok() + close.result().ok();
        ServingLine serving = generations.handOff();
        assertThat(serving.pid()).isEqualTo(1);
        assertThat(serving.instanceId())
            .as("generation %d's instance id", serving.generation())
            .isNotEqualTo(first.instanceId());
        assertOnlyTheActiveProcessOwnsTheRunDirectory(serving);
        await()
            .atMost(WAIT)
            .until(() -> keepAlive.result().ok() + close.result().ok() > before + 24);
      }
    } finally {
      keepAlive.stop();
      close.stop();
    }
    LoadResult keepAliveResult = keepAlive.awaitResult(WAIT);
    LoadResult closeResult = close.awaitResult(WAIT);

    assertThat(keepAliveResult.failed())
        .as("failed keep-alive requests: %s", keepAliveResult)
        .isZero();
    assertThat(closeResult.failed())
        .as("failed Connection: close requests: %s", closeResult)
        .isZero();
    Set<String> sent = new HashSet<>(keepAlive.idsSent());
    sent.addAll(close.idsSent());
    assertThat(sent).hasSize(keepAlive.idsSent().size() + close.idsSent().size());
    Map<String, Integer> arrived = upstream.idCounts();
    assertThat(arrived.keySet())
        .as("every id sent arrived at the upstream, and nothing else")
        .isEqualTo(sent);
    assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
    assertThat(keepAliveResult.servedBy(HANDOFFS + 1) + closeResult.servedBy(HANDOFFS + 1))
        .as("the last generation served")
        .isPositive();
    System.out.println(isolation + ": keep-alive " + keepAliveResult + "; close " + closeResult);
  }

  /**
   * Exactly one active process: every older generation has exited (Generations waits for that),
   * {@code reconfig.sock} and {@code admin.sock} are this generation's own sockets, the admin API
   * says so, and nothing else is left in the run directory.
   */
  private void assertOnlyTheActiveProcessOwnsTheRunDirectory(ServingLine active)
      throws IOException {
    String id = active.instanceId();
    Path run = fixture.runDir();
    Set<String> expected =
        new TreeSet<>(
            Set.of(
                "reconfig.sock",
                "reconfig.sock." + id + ".1",
                "admin.sock",
                "admin.sock." + id,
                "instance." + id + ".lock",
                "arrival.lock"));
    // conn.sock goes when the predecessor's last connection has arrived, just after it exited.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(files(run))
                    .as("the run directory after generation %d took over", active.generation())
                    .isEqualTo(expected));
    assertThat(
            Files.isSameFile(
                run.resolve("reconfig.sock"), run.resolve("reconfig.sock." + id + ".1")))
        .as("reconfig.sock is generation %d's socket", active.generation())
        .isTrue();
    assertThat(Files.isSameFile(run.resolve("admin.sock"), run.resolve("admin.sock." + id)))
        .isTrue();
    BatonProcess status = fixture.cli("status", "--output", "json");
    assertThat(status.awaitExit(WAIT)).isZero();
    assertThat(status.stdoutText())
        .contains("\"generation\":\"" + active.generation() + "\"")
        .contains("\"instance_id\":\"" + id + "\"")
        .contains("\"phase\":\"SERVING\"");
  }

  private static Set<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }
}
