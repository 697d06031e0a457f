package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The `baton` CLI against a running Baton, through admin.sock. */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class AdminCliTest {

  private static final Duration WAIT = Generations.WAIT;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private BatonProcess first;
  private ServingLine serving;

  @BeforeEach
  void startFirstGeneration() {
    upstream = TestUpstream.start(0);
    Path config = fixture.webProxyConfig(upstream.port()).drainTimeout("120s").write();
    first = fixture.start(config);
    serving = first.awaitServing(WAIT);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
    upstream.close();
  }

  private JsonNode statusJson() throws Exception {
    BatonProcess status = fixture.cli("status", "--output", "json");
    assertThat(status.awaitExit(WAIT))
        .as("baton status exit code; stderr: %s", status.stderrText())
        .isZero();
    return JSON.readTree(status.stdoutText());
  }

  @Test
  void statusUpgradeWatchAndDrainDriveTheHandoffWithNoFailedRequest() throws Exception {
    JsonNode before = statusJson();
    assertThat(before.get("generation").asLong()).isEqualTo(1);
    assertThat(before.get("phase").asText()).isEqualTo("SERVING");
    assertThat(before.get("pid").asLong()).isEqualTo(first.pid());
    assertThat(before.get("listeners").get(0).get("bound_address").asText())
        .isEqualTo("127.0.0.1:" + serving.listener("web").getPort());

    LoadClient load =
        LoadClient.builder(
                serving.listener("web").getHostString(), serving.listener("web").getPort())
            .workers(8)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(3))
            .build();
    load.start();
    ServingLine second;
    BatonProcess watch;
    try {
      await().atMost(WAIT).until(() -> load.result().ok() > 100);
      watch = fixture.cli("watch");
      first.awaitLogLine(
          "admin.sock: a watcher follows this process", WAIT); // before anything happens to watch

      BatonProcess upgrade = fixture.cli("upgrade");
      assertThat(upgrade.awaitExit(WAIT))
          .as("baton upgrade; stderr: %s", upgrade.stderrText())
          .isZero();
      second = first.awaitServingOfGeneration(2, WAIT);
      assertThat(upgrade.stdoutText()).contains("started pid " + second.pid());
      assertThat(first.awaitExit(WAIT)).isZero();
      assertThat(watch.awaitExit(WAIT)).as("baton watch ends with the process it watched").isZero();
      long afterHandoff = load.result().ok();
      await().atMost(WAIT).until(() -> load.result().ok() > afterHandoff + 100);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);
    assertThat(result.failed()).as("failed requests across a `baton upgrade`: %s", result).isZero();

    List<String> phases =
        watch.stdoutText().lines().map(l -> l.split(" ")[3].replace(":", "")).toList();
    assertThat(phases)
        .as("what `baton watch` printed, in order:\n%s", watch.stdoutText())
        .containsSubsequence(
            "outgoing_welcome",
            "outgoing_listeners_sent",
            "outgoing_ready_received",
            "draining",
            "handoff_success",
            "stopped")
        .contains("drain_finished");

    JsonNode after = statusJson();
    assertThat(after.get("generation").asLong()).isEqualTo(2);
    assertThat(after.get("pid").asLong()).isEqualTo(second.pid());

    BatonProcess drain = fixture.cli("drain");
    assertThat(drain.awaitExit(WAIT)).as("baton drain; stderr: %s", drain.stderrText()).isZero();
    ProcessHandle secondProcess = ProcessHandle.of(second.pid()).orElseThrow();
    secondProcess.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    BatonProcess gone = fixture.cli("status");
    assertThat(gone.awaitExit(WAIT)).as("no active Baton any more").isEqualTo(3);
  }

  @Test
  void upgradeWithAnInvalidNewConfigIsRefusedAndNothingChanges() throws Exception {
    Path invalid = fixture.dir().resolve("invalid.yaml");
    Files.writeString(invalid, "listeners: [\n", StandardCharsets.UTF_8);

    BatonProcess upgrade = fixture.cli("upgrade", "--config", invalid.toString());

    assertThat(upgrade.awaitExit(WAIT)).as("exit code of a refused upgrade").isEqualTo(4);
    assertThat(upgrade.stderrText()).contains("invalid_config").contains(invalid.toString());
    assertThat(statusJson().get("generation").asLong()).isEqualTo(1);
    assertThat(first.isAlive()).isTrue();
  }

  @Test
  void theBinBatonLauncherRunsTheJarAsACommand() throws Exception {
    Path launcher = BatonFixture.JAR.getParent().resolve("../../bin/baton").normalize();
    ProcessBuilder builder =
        new ProcessBuilder(
                launcher.toString(),
                "status",
                "--output",
                "json",
                "--run-dir",
                fixture.runDir().toString())
            .redirectErrorStream(true);
    builder.environment().put("BATON_JAR", BatonFixture.JAR.toString());
    Process status = builder.start();
    assertThat(status.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String output = new String(status.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(status.exitValue()).as("exit code; output: %s", output).isZero();
    assertThat(JSON.readTree(output).get("pid").asLong()).isEqualTo(first.pid());
  }

  @Test
  void aCallerOfAnotherUidIsRefused() throws Exception {
    // As uid nobody, let through the 0700 run directory by CAP_DAC_OVERRIDE alone, so that only the
    // SO_PEERCRED check on admin.sock can stop it.
    List<String> command =
        new ArrayList<>(
            List.of(
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=+dac_override",
                "--ambient-caps=+dac_override",
                "--"));
    command.addAll(BatonProcess.javaCommand());
    command.addAll(
        List.of(
            "-jar",
            BatonFixture.JAR.toString(),
            "status",
            "--run-dir",
            fixture.runDir().toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(Map.of("JAVA_TOOL_OPTIONS", ""));
    Process status = builder.start();
    assertThat(status.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    String output = new String(status.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(status.exitValue()).as("exit code; output: %s", output).isEqualTo(3);
    first.awaitLogLine("admin.sock: refused a caller: peer uid 65534", WAIT);
    assertThat(statusJson().get("phase").asText())
        .as("the refusal changed nothing")
        .isEqualTo("SERVING");
  }
}
