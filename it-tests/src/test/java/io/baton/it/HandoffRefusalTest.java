package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.ControlProbe;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.process.BatonConfigFile;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every peer the active process must not hand over to gets a typed refusal; the refusal is counted
 * and nothing changes: the old process stays ready, and a proper handoff still works.
 */
@Timeout(180)
@ExtendWith(DumpLogsOnFailure.class)
class HandoffRefusalTest {

  private static final Duration START = Duration.ofSeconds(60);
  private final BatonFixture fixture = new BatonFixture();
  private Path config;
  private BatonProcess active;
  private ServingLine serving;
  private TestUpstream upstream;

  @BeforeEach
  void startFirstGeneration() {
    upstream = TestUpstream.start(0);
    // A request held at the upstream lasts as long as a test needs, beyond the default request
    // timeout.
    config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .clusterWithRequestTimeout("backend", "120s", "127.0.0.1:" + upstream.port())
            .write();
    active = fixture.start(config);
    serving = active.awaitServing(START);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
    upstream.close();
  }

  @Test
  void garbageBytesGetMalformedMessageAndTheOldProcessServesOn() throws Exception {
    Envelope reply =
        ControlProbe.exchange(
            fixture.reconfigSock(), "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(reply.getRefusal().getReason()).isEqualTo(RefusalReason.MALFORMED_MESSAGE);
    assertRefusedOnceAndStillServing();
    assertAProperHandoffStillWorks();
  }

  @Test
  void wrongProtocolVersionIsRefusedWithTheVersionMismatchReason() throws Exception {
    Envelope reply = ControlProbe.hello(fixture.reconfigSock(), 99, ProcessHandle.current().pid());
    assertThat(reply.getRefusal().getReason()).isEqualTo(RefusalReason.PROTOCOL_VERSION_MISMATCH);
    assertThat(reply.getRefusal().getDetail()).contains("99");
    assertRefusedOnceAndStillServing();
    assertAProperHandoffStillWorks();
  }

  @Test
  void helloWhosePidIsNotThePeersIsRefused() throws Exception {
    Envelope reply =
        ControlProbe.hello(fixture.reconfigSock(), 1, ProcessHandle.current().pid() + 1_000_000);
    assertThat(reply.getRefusal().getReason()).isEqualTo(RefusalReason.PEER_PID_MISMATCH);
    assertRefusedOnceAndStillServing();
  }

  @Test
  void secondConcurrentHandoffIsRefusedWhileTheFirstIsUnderWay() throws Exception {
    BatonProcess paused = fixture.start(config, Map.of("BATON_TEST_PAUSE_AT", "welcomed"));
    paused.awaitLogLine("paused at handoff step WELCOMED", START);

    BatonProcess second = fixture.start(config);
    assertThat(second.awaitExit(START)).isEqualTo(1);
    assertThat(second.stderrText()).contains("HANDOFF_IN_PROGRESS");
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"refused\"}"))
        .isEqualTo(1.0);

    // The paused one dies before it ever said Ready: a failed handoff, and the old one serves on.
    paused.kill();
    Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> Admin.sample(serving.admin(), "baton_handoffs_total{result=\"failed\"}") == 1.0);
    assertThat(Admin.readyStatus(serving.admin())).isEqualTo(200);
    assertAProperHandoffStillWorks();
  }

  /**
   * A handoff during a drain is allowed only while fewer than {@code handoff.maxDraining} older
   * generations drain (ChainedDrainTest covers the allowed case). Beyond it: PREDECESSOR_DRAINING,
   * counted, and nothing changes; once the drain is over the same handoff works.
   */
  @Test
  void aHandoffDuringADrainBeyondHandoffMaxDrainingIsRefusedUntilTheDrainIsOver() throws Exception {
    // Generation 2 and the ones started after it allow no handoff while an older generation drains.
    Path strict =
        BatonConfigFile.builder(fixture.dir().resolve("strict"))
            .runDir(fixture.runDir())
            .maxDraining(1)
            .httpListener("web", "127.0.0.1:0", "backend")
            .clusterWithRequestTimeout("backend", "120s", "127.0.0.1:" + upstream.port())
            .write();
    // A request in flight that the upstream holds: generation 1 can neither finish nor move it.
    try (RawHttp slow = new RawHttp(serving.listener("web"))) {
      slow.send("GET /hold/slow HTTP/1.1\r\nHost: t\r\n\r\n");
      Awaitility.await().atMost(START).until(() -> upstream.heldRequests() == 1);
      BatonProcess second = fixture.start(strict);
      ServingLine secondServing = second.awaitServing(START);
      active.awaitLogLine("phase SERVING -> DRAINING", START);

      BatonProcess third = fixture.start(strict);
      assertThat(third.awaitExit(START)).as("exit code of the refused generation").isEqualTo(1);
      assertThat(third.stderrText())
          .contains("PREDECESSOR_DRAINING")
          .contains("handoff.maxDraining 1")
          .contains("[1]");
      assertThat(Admin.sample(secondServing.admin(), "baton_handoffs_total{result=\"refused\"}"))
          .isEqualTo(1.0);
      assertThat(Admin.readyStatus(secondServing.admin())).isEqualTo(200);
      assertThat(active.isAlive()).as("generation 1 still drains the request").isTrue();
      assertThat(active.stderrText())
          .doesNotContain("HandedOn")
          .doesNotContain("SUCCESSOR_TOOK_OVER");

      upstream.releaseHeld();
      RawHttp.Response answer = slow.read();
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.bodyText())
          .isEqualTo("held slow\n"); // then the connection moves to generation 2
    }
    assertThat(active.awaitExit(START)).isZero();
    Awaitility.await()
        .atMost(START)
        .until(() -> Admin.sample(serving.admin(), "baton_predecessors_draining") == 0.0);
    BatonProcess thirdAgain = fixture.start(strict);
    assertThat(thirdAgain.awaitServing(START).generation()).isEqualTo(3);
  }

  @Test
  void peerOfAnotherUidIsRefused() throws Exception {
    // A process running as uid nobody, allowed through the 0700 run directory by CAP_DAC_OVERRIDE
    // alone, so that only the SO_PEERCRED check can stop it.
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
            "-cp",
            System.getProperty("java.class.path"),
            ControlProbe.class.getName(),
            fixture.reconfigSock().toString()));
    Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output).contains("reply=REFUSAL reason=PEER_UID_MISMATCH").contains("65534");
    assertRefusedOnceAndStillServing();
  }

  private void assertRefusedOnceAndStillServing() throws Exception {
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"refused\"}"))
        .isEqualTo(1.0);
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"success\"}"))
        .isEqualTo(0.0);
    assertThat(Admin.readyStatus(serving.admin())).isEqualTo(200);
    assertThat(active.isAlive()).isTrue();
  }

  private void assertAProperHandoffStillWorks() {
    BatonProcess next = fixture.start(config);
    assertThat(next.awaitServing(START).generation()).isEqualTo(2);
    assertThat(active.awaitExit(START)).isZero();
  }
}
