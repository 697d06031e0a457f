package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** `baton launch`: a supervisor whose children are the generations, whatever starts them. */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class LaunchTest {

  private static final Duration WAIT = Generations.WAIT;

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private Path config;

  @BeforeEach
  void writeConfig() {
    upstream = TestUpstream.start(0);
    config = fixture.webProxyConfig(upstream.port()).drainTimeout("120s").write();
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
    upstream.close();
  }

  private BatonProcess launch(String... options) {
    List<String> args = new ArrayList<>(List.of("launch"));
    args.addAll(List.of(options));
    args.addAll(List.of("--", "run", "--config", config.toString()));
    return fixture.command(args.toArray(String[]::new));
  }

  /** The generation serves, is the supervisor's child, and the one before it is gone and reaped. */
  private ServingLine awaitGeneration(
      BatonProcess supervisor, long generation, ServingLine previous) throws Exception {
    ServingLine line = supervisor.awaitServingOfGeneration(generation, WAIT);
    ProcessHandle handle = ProcessHandle.of(line.pid()).orElseThrow();
    assertThat(handle.parent().map(ProcessHandle::pid))
        .as("parent of generation %d", generation)
        .contains(supervisor.pid());
    if (previous != null) {
      // Reaped, not a zombie: a zombie keeps its /proc entry until its parent waits for it.
      await()
          .atMost(WAIT)
          .until(() -> !Files.exists(Path.of("/proc", Long.toString(previous.pid()))));
    }
    assertThat(supervisor.isAlive()).as("the supervisor lives on").isTrue();
    return line;
  }

  @Test
  void threeUpgradesByEveryTriggerRunEachGenerationAsTheSupervisorsChildWithNoFailedRequest()
      throws Exception {
    BatonProcess supervisor = launch();
    ServingLine first = awaitGeneration(supervisor, 1, null);
    LoadClient load =
        LoadClient.builder(first.listener("web").getHostString(), first.listener("web").getPort())
            .workers(8)
            .mode(LoadClient.Mode.KEEP_ALIVE)
            .maxDuration(Duration.ofMinutes(3))
            .build();
    load.start();
    ServingLine fourth;
    try {
      await().atMost(WAIT).until(() -> load.result().ok() > 100);

      supervisor.signal("USR2"); // an operator asks the supervisor
      ServingLine second = awaitGeneration(supervisor, 2, first);

      BatonProcess upgrade = fixture.cli("upgrade");
      assertThat(upgrade.awaitExit(WAIT))
          .as("baton upgrade; stderr: %s", upgrade.stderrText())
          .isZero();
      ServingLine third = awaitGeneration(supervisor, 3, second);

      signal(third.pid(), "HUP"); // the active generation asks the supervisor in turn
      fourth = awaitGeneration(supervisor, 4, third);
      long before = load.result().ok();
      await().atMost(WAIT).until(() -> load.result().ok() > before + 100);
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(WAIT);
    assertThat(result.failed())
        .as("failed requests across three supervised upgrades: %s", result)
        .isZero();
    assertThat(result.perGeneration()).containsKeys("1", "2", "3", "4");

    supervisor.signal("TERM");
    assertThat(supervisor.awaitExit(WAIT))
        .as("the supervisor's exit code: generation 4 drained and exited 0")
        .isZero();
    assertThat(Files.exists(Path.of("/proc", Long.toString(fourth.pid()))))
        .as("generation 4 reaped")
        .isFalse();
  }

  @Test
  void theSupervisorExitsWithTheExitCodeOfItsLastGeneration() throws Exception {
    BatonProcess supervisor = launch();
    ServingLine first = awaitGeneration(supervisor, 1, null);

    signal(first.pid(), "KILL");

    assertThat(supervisor.awaitExit(WAIT))
        .as("128 + SIGKILL, as the generation died")
        .isEqualTo(137);
  }

  @Test
  void aStandbySupervisorStaysAliveAfterItsGenerationHandedOverToAProcessOutsideIt()
      throws Exception {
    BatonProcess supervisor = launch("--standby");
    ServingLine first = awaitGeneration(supervisor, 1, null);

    BatonProcess outside = fixture.start(config); // e.g. the other slot container of the pod
    assertThat(outside.awaitServing(WAIT).generation()).isEqualTo(2);

    supervisor.awaitLogLine("standing by until SIGTERM", WAIT);
    assertThat(Files.exists(Path.of("/proc", Long.toString(first.pid()))))
        .as("generation 1 exited and was reaped")
        .isFalse();
    assertThat(supervisor.isAlive()).isTrue();
    supervisor.signal("TERM");
    assertThat(supervisor.awaitExit(WAIT)).isZero();
  }

  private static void signal(long pid, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor()).as("kill -%s %d", signal, pid).isZero();
  }
}
