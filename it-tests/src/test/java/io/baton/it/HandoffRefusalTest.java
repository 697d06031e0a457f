package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.ControlProbe;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.sidecar.demo.BatonProcess;
import io.baton.sidecar.demo.ServingLine;
import java.nio.charset.StandardCharsets;
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

/**
 * Every peer the active process must not hand over to gets a typed refusal; the refusal is
 * counted and nothing changes: the old process stays ready, and a proper handoff still works.
 */
@Timeout(180)
@ExtendWith(DumpLogsOnFailure.class)
class HandoffRefusalTest {

  private static final Duration START = Duration.ofSeconds(60);
  private final BatonFixture fixture = new BatonFixture();
  private Path config;
  private BatonProcess active;
  private ServingLine serving;

  @BeforeEach
  void startFirstGeneration() {
    config = fixture.config().httpListener("web", "127.0.0.1:0", "backend").cluster("backend", "127.0.0.1:9").write();
    active = fixture.start(config);
    serving = active.awaitServing(START);
  }

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  @Test
  void garbageBytesGetMalformedMessageAndTheOldProcessServesOn() throws Exception {
    Envelope reply = ControlProbe.exchange(fixture.reconfigSock(), "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
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
    Envelope reply = ControlProbe.hello(fixture.reconfigSock(), 1, ProcessHandle.current().pid() + 1_000_000);
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
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"refused\"}")).isEqualTo(1.0);

    // The paused one dies before it ever said Ready: a failed handoff, and the old one serves on.
    paused.kill();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> Admin.sample(serving.admin(), "baton_handoffs_total{result=\"failed\"}") == 1.0);
    assertThat(Admin.readyStatus(serving.admin())).isEqualTo(200);
    assertAProperHandoffStillWorks();
  }

  @Test
  void peerOfAnotherUidIsRefused() throws Exception {
    // A process running as uid nobody, allowed through the 0700 run directory by CAP_DAC_OVERRIDE
    // alone, so that only the SO_PEERCRED check can stop it.
    List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "--inh-caps=+dac_override", "--ambient-caps=+dac_override", "--"));
    command.addAll(BatonProcess.javaCommand());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), ControlProbe.class.getName(),
        fixture.reconfigSock().toString()));
    Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertThat(probe.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output).contains("reply=REFUSAL reason=PEER_UID_MISMATCH").contains("65534");
    assertRefusedOnceAndStillServing();
  }

  private void assertRefusedOnceAndStillServing() throws Exception {
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"refused\"}")).isEqualTo(1.0);
    assertThat(Admin.sample(serving.admin(), "baton_handoffs_total{result=\"success\"}")).isEqualTo(0.0);
    assertThat(Admin.readyStatus(serving.admin())).isEqualTo(200);
    assertThat(active.isAlive()).isTrue();
  }

  private void assertAProperHandoffStillWorks() {
    BatonProcess next = fixture.start(config);
    assertThat(next.awaitServing(START).generation()).isEqualTo(2);
    assertThat(active.awaitExit(START)).isZero();
  }
}
