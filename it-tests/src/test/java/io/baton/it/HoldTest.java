package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A held handoff (`baton upgrade --hold`), as after nginx's USR2: both generations accept until the
 * operator commits (the old one drains) or aborts (the new one drains and exits).
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class HoldTest {

  private static final Duration WAIT = Generations.WAIT;
  private static final Pattern STARTED = Pattern.compile("started pid (\\d+)");

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private BatonProcess first;
  private ServingLine serving;
  private LoadClient load;

  @BeforeEach
  void startFirstGenerationUnderLoad() {
    upstream = TestUpstream.start(0);
    Path config = fixture.webProxyConfig(upstream.port()).drainTimeout("120s").write();
    first = fixture.start(config);
    serving = first.awaitServing(WAIT);
    // A connection per request: while held, new connections go to either generation.
    load =
        LoadClient.builder(
                serving.listener("web").getHostString(), serving.listener("web").getPort())
            .workers(8)
            .mode(LoadClient.Mode.CLOSE)
            .maxDuration(Duration.ofMinutes(3))
            .build();
    load.start();
  }

  @AfterEach
  void cleanUp() {
    load.stop();
    fixture.close();
    upstream.close();
  }

  /** `baton upgrade --hold`, then both generations serve; returns the held process. */
  private ProcessHandle upgradeHeldAndSeeBothServe() {
    await().atMost(WAIT).until(() -> load.result().ok() > 100);
    BatonProcess upgrade = fixture.cli("upgrade", "--hold");
    assertThat(upgrade.awaitExit(WAIT))
        .as("baton upgrade --hold; stderr: %s", upgrade.stderrText())
        .isZero();
    Matcher started = STARTED.matcher(upgrade.stdoutText());
    assertThat(started.find()).as("baton upgrade said: %s", upgrade.stdoutText()).isTrue();
    ProcessHandle held = ProcessHandle.of(Long.parseLong(started.group(1))).orElseThrow();

    first.awaitLogLine("held (both generations accept", WAIT);
    long byFirst = served("1");
    await().atMost(WAIT).until(() -> served("2") > 50 && served("1") > byFirst + 50);
    return held;
  }

  private long served(String generation) {
    return load.result().perGeneration().getOrDefault(generation, 0L);
  }

  private LoadResult stopLoad() {
    long now = load.result().ok();
    await()
        .atMost(WAIT)
        .until(() -> load.result().ok() > now + 100); // serving on after the hold ended
    load.stop();
    return load.awaitResult(WAIT);
  }

  private void assertOldGenerationServesAloneAfterAnAbort(ProcessHandle held) throws Exception {
    held.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    first.awaitLogLine("aborted while held", WAIT);
    long bySecond = served("2");
    LoadResult result = stopLoad();
    assertThat(result.failed())
        .as("failed requests across a hold and its abort: %s", result)
        .isZero();
    assertThat(served("2"))
        .as("nothing served by the held generation once it was gone")
        .isEqualTo(bySecond);
    assertThat(first.isAlive()).isTrue();
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"aborted\"}"))
        .isEqualTo(1);
    assertThat(Admin.sample(serving.admin(), "baton_ready"))
        .as("generation 1 is still the ready one")
        .isEqualTo(1);
  }

  @Test
  void holdThenCommitByCliBothGenerationsServeUntilTheOldOneDrains() throws Exception {
    upgradeHeldAndSeeBothServe();

    BatonProcess commit = fixture.cli("commit");
    assertThat(commit.awaitExit(WAIT)).as("baton commit; stderr: %s", commit.stderrText()).isZero();

    assertThat(first.awaitServingOfGeneration(2, WAIT).generation()).isEqualTo(2);
    assertThat(first.awaitExit(WAIT)).as("generation 1 drained and exited").isZero();
    LoadResult result = stopLoad();
    assertThat(result.failed())
        .as("failed requests across a hold and its commit: %s", result)
        .isZero();
  }

  @Test
  void holdThenSigwinchToTheOldGenerationCommits() throws Exception {
    upgradeHeldAndSeeBothServe();

    first.signal("WINCH");

    first.awaitServingOfGeneration(2, WAIT);
    assertThat(first.awaitExit(WAIT)).isZero();
    LoadResult result = stopLoad();
    assertThat(result.failed())
        .as("failed requests across a hold and SIGWINCH: %s", result)
        .isZero();
  }

  @Test
  void holdThenAbortByCliTheNewGenerationDrainsAndExitsAndTheOldServesOn() throws Exception {
    ProcessHandle held = upgradeHeldAndSeeBothServe();

    BatonProcess abort = fixture.cli("abort", "--reason", "the canary looks wrong");
    assertThat(abort.awaitExit(WAIT)).as("baton abort; stderr: %s", abort.stderrText()).isZero();

    assertOldGenerationServesAloneAfterAnAbort(held);
    assertThat(first.stderrText()).contains("the canary looks wrong");
  }

  @Test
  void sigtermToTheHeldGenerationGivesItUpAndTheOldServesOn() throws Exception {
    ProcessHandle held = upgradeHeldAndSeeBothServe();

    held.destroy(); // SIGTERM

    assertOldGenerationServesAloneAfterAnAbort(held);
    assertThat(first.stderrText()).contains("the successor gave up: SIGTERM");
  }

  @Test
  void commitWithoutAHeldSuccessorIsRefusedAndChangesNothing() throws Exception {
    BatonProcess commit = fixture.cli("commit");

    assertThat(commit.awaitExit(WAIT)).as("exit code of a commit with nothing held").isEqualTo(4);
    assertThat(commit.stderrText()).contains("no successor is held");
    assertThat(Files.exists(fixture.runDir().resolve("admin.sock"))).isTrue();
    assertThat(first.isAlive()).isTrue();
  }
}
