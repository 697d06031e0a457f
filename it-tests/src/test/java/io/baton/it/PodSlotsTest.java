package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.baton.it.support.ContainerImages;
import io.baton.it.support.PodDeployment;
import io.baton.it.support.Podman;
import io.baton.it.support.StrictManifests;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The two deployment patterns of {@code deploy/}, played with podman containers of one pod under a
 * keep-alive and a {@code Connection: close} load, each step as a kubelet or OpenKruise would take
 * it: a container started with the slot's arguments and the manifests' security settings ({@code
 * --read-only}, its own {@code /tmp}, uid 10001, no capabilities, the memory limit), its {@code
 * postStart} hook (exactly as the manifest writes it) run in it before the next step, and a
 * container replaced by stopping it (SIGTERM, as the kubelet does) and starting a new one.
 */
@Timeout(900)
class PodSlotsTest {

  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final int UPGRADES = 4;

  private Podman podman;
  private PodDeployment pod;

  /** Every slot container this test started, in order: their logs explain a failure. */
  private final List<String> slotContainers = new ArrayList<>();

  private LoadClient keepAlive;
  private LoadClient close;

  @BeforeEach
  void buildImage(TestInfo test) {
    ContainerImages.ensureBuilt();
    podman =
        new Podman(getClass().getSimpleName() + "-" + test.getTestMethod().orElseThrow().getName());
  }

  @AfterEach
  void cleanUp() {
    try {
      if (keepAlive != null) {
        keepAlive.stop();
        close.stop();
      }
      podman.close();
    } finally {
      if (pod != null) {
        pod.close();
      }
    }
  }

  /**
   * deploy/kubernetes: slots a and b both run {@code baton launch --standby}; b takes over from a
   * at pod start; an upgrade replaces the standby slot's container, whose new process takes over
   * while the other slot's supervisor goes on standby.
   */
  @Test
  void twoSlotsTakeTurnsThroughFourUpgradesWithoutAFailedRequest() throws Exception {
    Deployment deployment = deployment();
    List<String> args = slotArgs(deployment, "baton-a");
    assertThat(slotArgs(deployment, "baton-b")).isEqualTo(args);
    String hook = postStartHook(deployment);
    pod = PodDeployment.start(podman, "pod");

    String[] slots = {startSlot("a-1", ContainerImages.BATON, args, hook), null};
    pod.awaitServing(slots[0], 1, WAIT);
    slots[1] = startSlot("b-1", ContainerImages.BATON, args, hook);
    pod.awaitServing(slots[1], 2, WAIT);
    assertStandby(slots[0]);
    startLoad();

    List<String> upgradeMillis = new ArrayList<>();
    for (int upgrade = 1; upgrade <= UPGRADES; upgrade++) {
      long before = served();
      int standby = (upgrade - 1) % 2; // a, then b, then a...
      long started = System.nanoTime();
      // kubectl patch of the standby slot's image: the kubelet stops its container, starts a new
      // one.
      podman.stop(slots[standby], Duration.ofSeconds(10));
      assertThat(podman.waitForExit(slots[standby], WAIT))
          .as("a standby slot's supervisor exits 0 on SIGTERM")
          .isZero();
      slots[standby] =
          startSlot(
              (standby == 0 ? "a-" : "b-") + (upgrade + 1), ContainerImages.BATON, args, hook);
      ServingLine serving = pod.awaitServing(slots[standby], upgrade + 2, WAIT);
      upgradeMillis.add(serving.generation() + ":" + (System.nanoTime() - started) / 1_000_000);
      assertStandby(slots[1 - standby]);
      pod.assertOnlyActiveFilesInRunDirectory(serving.instanceId(), WAIT);
      await().atMost(WAIT).until(() -> served() > before + 24);
    }
    assertNothingLost(
        "two slots, "
            + UPGRADES
            + " upgrades (generation:ms from stopping the standby slot to serving) "
            + upgradeMillis);
  }

  /**
   * deploy/kruise: slot 1 runs Baton, slot 2 the empty image. Each hot upgrade gives the empty slot
   * the Baton image (its process takes over, its postStart hook holds it until then), then, the pod
   * being ready again, gives the old slot the empty image.
   */
  @Test
  void kruiseHotUpgradeSwapsSlotsFourTimesWithoutAFailedRequest() throws Exception {
    JsonNode sidecar = sidecarSetContainer();
    List<String> args =
        StrictManifests.YAML.convertValue(
            sidecar.path("args"),
            StrictManifests.YAML
                .getTypeFactory()
                .constructCollectionType(List.class, String.class));
    String hook =
        sidecar.path("lifecycle").path("postStart").path("exec").path("command").get(2).asText();
    pod = PodDeployment.start(podman, "pod");

    String[] slots = {
      startSlot("1-1", ContainerImages.BATON, args, hook),
      startSlot("2-1", ContainerImages.EMPTY, args, hook)
    };
    pod.awaitServing(slots[0], 1, WAIT);
    startLoad();

    List<String> upgradeMillis = new ArrayList<>();
    for (int upgrade = 1; upgrade <= UPGRADES; upgrade++) {
      long before = served();
      int empty = upgrade % 2; // slot 2 first
      int old = 1 - empty;
      long started = System.nanoTime();
      podman.stop(slots[empty], Duration.ofSeconds(10));
      assertThat(podman.waitForExit(slots[empty], WAIT))
          .as("the empty image exits 0 on SIGTERM")
          .isZero();
      slots[empty] = startSlot(slotName(empty, upgrade + 1), ContainerImages.BATON, args, hook);
      ServingLine serving = pod.awaitServing(slots[empty], upgrade + 1, WAIT);
      upgradeMillis.add(serving.generation() + ":" + (System.nanoTime() - started) / 1_000_000);
      // Ready again: Kruise gives the old slot the empty image.
      assertThat(pod.readyStatus()).isEqualTo(200);
      podman.stop(slots[old], Duration.ofSeconds(10));
      assertThat(podman.waitForExit(slots[old], WAIT))
          .as("the old slot (standby after the handoff) exits 0 on SIGTERM")
          .isZero();
      slots[old] = startSlot(slotName(old, upgrade + 1), ContainerImages.EMPTY, args, hook);
      pod.assertOnlyActiveFilesInRunDirectory(serving.instanceId(), WAIT);
      await().atMost(WAIT).until(() -> served() > before + 24);
    }
    assertNothingLost(
        "Kruise hot upgrade, "
            + UPGRADES
            + " swaps (generation:ms from stopping the empty slot to serving) "
            + upgradeMillis);
  }

  private static String slotName(int slot, int round) {
    return (slot + 1) + "-" + round;
  }

  /**
   * Starts a slot container as the manifests describe it and runs its postStart hook in it, as the
   * kubelet does before it starts the next container: returns once the hook said the slot's process
   * serves (or at once for the empty image).
   */
  private String startSlot(String role, String image, List<String> args, String hook) {
    List<String> options = new ArrayList<>(pod.containerOptions());
    options.addAll(
        List.of(
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--user",
            "10001:10001",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--memory",
            "384m"));
    String container = podman.run("slot-" + role, options, image, args.toArray(String[]::new));
    slotContainers.add(container);
    Podman.Result result = podman.tryExec(container, Duration.ofSeconds(70), "bash", "-c", hook);
    assertThat(result.exitCode())
        .as("postStart hook of %s: %s%s", role, result.stdout(), result.stderr())
        .isZero();
    return container;
  }

  /** A slot whose process handed over: its supervisor stays up (--standby), with no generation. */
  private void assertStandby(String container) {
    await()
        .atMost(WAIT)
        .untilAsserted(() -> assertThat(podman.logs(container)).contains("standing by"));
    assertThat(podman.inspect(container, "{{.State.Running}}")).isEqualTo("true");
  }

  private void startLoad() {
    keepAlive = pod.load(LoadClient.Mode.KEEP_ALIVE, 16, "ka");
    close = pod.load(LoadClient.Mode.CLOSE, 8, "cl");
    keepAlive.start();
    close.start();
  }

  private long served() {
    return keepAlive.result().ok() + close.result().ok();
  }

  private void assertNothingLost(String what) throws IOException {
    keepAlive.stop();
    close.stop();
    LoadResult keepAliveResult = keepAlive.awaitResult(WAIT);
    LoadResult closeResult = close.awaitResult(WAIT);
    if (keepAliveResult.failed() + closeResult.failed() > 0) {
      for (String container : slotContainers) {
        System.out.println(
            "----- logs of slot container " + container + " -----\n" + podman.logs(container));
      }
    }
    assertThat(keepAliveResult.failed())
        .as("failed keep-alive requests: %s", keepAliveResult)
        .isZero();
    assertThat(closeResult.failed())
        .as("failed Connection: close requests: %s", closeResult)
        .isZero();
    pod.assertEveryIdArrivedExactlyOnce(keepAlive, close);
    System.out.println(what + "; keep-alive " + keepAliveResult + "; close " + closeResult);
  }

  private static Deployment deployment() throws IOException {
    return StrictManifests.documents(
            Files.readString(
                DeployManifestsTest.DEPLOY.resolve("kubernetes/baton-deployment.yaml")))
        .stream()
        .filter(d -> d.path("kind").asText().equals("Deployment"))
        .map(d -> StrictManifests.parse(d, Deployment.class))
        .findFirst()
        .orElseThrow();
  }

  private static List<String> slotArgs(Deployment deployment, String name) {
    return deployment.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .map(Container::getArgs)
        .orElseThrow();
  }

  private static String postStartHook(Deployment deployment) {
    Container slot =
        deployment.getSpec().getTemplate().getSpec().getContainers().stream()
            .filter(c -> c.getName().equals("baton-a"))
            .findFirst()
            .orElseThrow();
    List<String> command = slot.getLifecycle().getPostStart().getExec().getCommand();
    assertThat(command).hasSize(3).startsWith("bash", "-c");
    return command.get(2);
  }

  private static JsonNode sidecarSetContainer() throws IOException {
    return StrictManifests.documents(Files.readString(DeployManifestsTest.SIDECARSET))
        .get(0)
        .path("spec")
        .path("containers")
        .get(0);
  }
}
