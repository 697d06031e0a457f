package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.ExternalTool;
import io.baton.it.support.Generations;
import io.baton.it.support.StrictManifests;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The slots' postStart hook, run as written in the manifests against real Baton processes (its
 * paths moved into a temp directory). It decides when the kubelet, and an OpenKruise hot upgrade,
 * may treat a new slot as started: only once the process that slot started serves, never on the
 * strength of the predecessor's reconfig.sock, which is there all along.
 */
@Timeout(180)
@ExtendWith(DumpLogsOnFailure.class)
class SlotPostStartHookTest {

  private static final String RUN_DIR = "/run/baton/control";
  private static final String MARKER = "/tmp/baton-container-started";

  private final BatonFixture fixture = new BatonFixture();
  private Process hook;

  @AfterEach
  void cleanUp() {
    if (hook != null) {
      hook.destroyForcibly();
    }
    fixture.close();
  }

  @Test
  void theHookWaitsForItsOwnProcessNotThePredecessorAndNeverInTheEmptyImage() throws Exception {
    List<String> command = hookCommand();
    Path marker = fixture.dir().resolve("baton-container-started");
    String script =
        command
            .get(2)
            .replace(RUN_DIR, fixture.runDir().toString())
            .replace(MARKER, marker.toString());
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:9")
            .write();
    // Kruise's empty image writes no marker and runs no Baton: the hook must not wait for one.
    ExternalTool.Result empty =
        ExternalTool.run(fixture.dir(), Duration.ofSeconds(30), "bash", "-c", script);
    assertThat(empty.exitCode())
        .as("the hook in a container without Baton: %s", empty.output())
        .isZero();

    Generations generations = new Generations(fixture, config);
    generations.start();

    // A slot container starts (its entrypoint writes the marker) beside the active generation 1.
    Files.writeString(marker, "");
    // Bounded to 0.5 s instead of 60 s: it must give up, not accept generation 1's socket.
    ExternalTool.Result early =
        ExternalTool.run(
            fixture.dir(),
            Duration.ofSeconds(30),
            "bash",
            "-c",
            script.replace("seq 600", "seq 5"));
    assertThat(early.exitCode())
        .as("the hook with only the predecessor serving: %s", early.output())
        .isEqualTo(1);
    assertThat(early.output()).contains("baton did not take over");

    Files.writeString(marker, "");
    hook =
        new ProcessBuilder(ExternalTool.require("bash").toString(), "-c", script)
            .redirectErrorStream(true)
            .start();
    generations.handOff();
    assertThat(hook.waitFor(60, TimeUnit.SECONDS))
        .as("the hook returns once generation 2 took over")
        .isTrue();
    assertThat(hook.exitValue())
        .as("hook output: %s", new String(hook.getInputStream().readAllBytes()))
        .isZero();
  }

  /** The hook of slot baton-a; slot b and the SidecarSet's container must carry the same one. */
  private static List<String> hookCommand() throws IOException {
    Deployment deployment =
        StrictManifests.documents(
                Files.readString(
                    DeployManifestsTest.DEPLOY.resolve("kubernetes/baton-deployment.yaml")))
            .stream()
            .filter(d -> d.path("kind").asText().equals("Deployment"))
            .map(d -> StrictManifests.parse(d, Deployment.class))
            .findFirst()
            .orElseThrow();
    List<List<String>> slots =
        deployment.getSpec().getTemplate().getSpec().getContainers().stream()
            .filter(c -> c.getName().startsWith("baton-"))
            .map(Container::getLifecycle)
            .map(l -> l.getPostStart().getExec().getCommand())
            .toList();
    JsonNode sidecar =
        StrictManifests.documents(Files.readString(DeployManifestsTest.SIDECARSET))
            .get(0)
            .path("spec")
            .path("containers")
            .get(0)
            .path("lifecycle")
            .path("postStart")
            .path("exec")
            .path("command");
    List<String> kruise =
        StrictManifests.YAML.convertValue(
            sidecar,
            StrictManifests.YAML
                .getTypeFactory()
                .constructCollectionType(List.class, String.class));
    assertThat(slots).hasSize(2).allSatisfy(c -> assertThat(c).isEqualTo(slots.get(0)));
    assertThat(kruise).as("the SidecarSet's hook").isEqualTo(slots.get(0));
    List<String> command = slots.get(0);
    assertThat(command).hasSize(3).startsWith("bash", "-c");
    assertThat(command.get(2)).contains(RUN_DIR + "/reconfig.sock", MARKER, "seq 600");
    return command;
  }
}
