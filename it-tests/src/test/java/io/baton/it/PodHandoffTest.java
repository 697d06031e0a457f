package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.ContainerImages;
import io.baton.it.support.CounterScraper;
import io.baton.it.support.PodDeployment;
import io.baton.it.support.Podman;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Baton where its users run it: containers of one pod (podman), sharing the pod's network namespace
 * and the run directory as a volume, each Baton the pid 1 of its own container, uid 10001, the
 * image built on this machine. Generation 1 runs in one container; each handoff starts the next
 * generation in a new container of the same pod while a keep-alive and a {@code Connection: close}
 * load run from the host through the pod's published port.
 *
 * <p>Before instance ids this failed at the second handoff: both generations were pid 1 and named
 * their control sockets alike (see NamespaceHandoffTest).
 */
@Timeout(900)
class PodHandoffTest {

  private static final int HANDOFFS = 10;
  private static final Duration WAIT = Duration.ofSeconds(90);

  private Podman podman;
  private PodDeployment pod;

  @BeforeEach
  void buildImage(TestInfo test) {
    ContainerImages.ensureBuilt();
    podman =
        new Podman(getClass().getSimpleName() + "-" + test.getTestMethod().orElseThrow().getName());
  }

  @AfterEach
  void cleanUp() {
    try {
      podman.close(); // the containers first: they use the pod's directories
    } finally {
      if (pod != null) {
        pod.close();
      }
    }
  }

  @Test
  void tenHandoffsBetweenContainersOfOnePodLoseNothing() throws Exception {
    pod = PodDeployment.start(podman, "pod");
    String first = pod.startGeneration("gen-1", List.of("run", "--config", PodDeployment.CONFIG));
    ServingLine serving = pod.awaitServing(first, 1, WAIT);
    assertThat(serving.pid()).as("the JVM is the container's pid 1").isEqualTo(1);
    assertThat(pod.processUid(first)).as("Baton runs as the manifests' uid").isEqualTo(10001);

    LoadClient keepAlive = pod.load(LoadClient.Mode.KEEP_ALIVE, 16, "ka");
    LoadClient close = pod.load(LoadClient.Mode.CLOSE, 8, "cl");
    List<Long> handoffMillis = new ArrayList<>();
    CounterScraper metrics =
        new CounterScraper(
            pod.adminAddress(),
            "baton_requests_total{",
            "baton_connections_accepted_total{",
            "baton_generation");
    metrics.start();
    try {
      keepAlive.start();
      close.start();
      String active = first;
      for (int generation = 2; generation <= HANDOFFS + 1; generation++) {
        long before = keepAlive.result().ok() + close.result().ok();
        long started = System.nanoTime();
        String next =
            pod.startGeneration(
                "gen-" + generation, List.of("run", "--config", PodDeployment.CONFIG));
        ServingLine line = pod.awaitServing(next, generation, WAIT);
        handoffMillis.add((System.nanoTime() - started) / 1_000_000);
        assertThat(line.instanceId()).isNotEqualTo(serving.instanceId());
        assertThat(podman.waitForExit(active, WAIT))
            .as("generation %d's container exit code", generation - 1)
            .isZero();
        pod.assertOnlyActiveFilesInRunDirectory(line.instanceId(), WAIT);
        active = next;
        serving = line;
        await()
            .atMost(WAIT)
            .until(() -> keepAlive.result().ok() + close.result().ok() > before + 24);
      }
      keepAlive.stop();
      close.stop();
      LoadResult keepAliveResult = keepAlive.awaitResult(WAIT);
      LoadResult closeResult = close.awaitResult(WAIT);
      metrics.stop();

      assertThat(keepAliveResult.failed())
          .as("failed keep-alive requests: %s", keepAliveResult)
          .isZero();
      assertThat(closeResult.failed())
          .as("failed Connection: close requests: %s", closeResult)
          .isZero();
      pod.assertEveryIdArrivedExactlyOnce(keepAlive, close);
      assertThat(metrics.errors())
          .as("failed /metrics scrapes through the pod's admin port")
          .isEmpty();
      assertThat(metrics.decreases())
          .as("counters (and the generation) lower than in the scrape before")
          .isEmpty();
      assertThat(metrics.last("baton_generation")).isEqualTo((double) (HANDOFFS + 1));
      System.out.println(
          "pod: "
              + HANDOFFS
              + " handoffs between containers, start of the container to its serving line (ms): "
              + handoffMillis
              + "; keep-alive "
              + keepAliveResult
              + "; close "
              + closeResult
              + "; /metrics "
              + metrics);
    } finally {
      keepAlive.stop();
      close.stop();
      metrics.stop();
    }
  }
}
