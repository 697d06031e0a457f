package io.baton.sidecar.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.HandoffResult;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/** What systemd receives over a real datagram socket at each step of a process's life. */
@Timeout(30)
class SystemdStatusTest {

  private static final long PID = ProcessHandle.current().pid();

  @TempDir Path dir;
  private NotifyReceiver systemd;
  private final Lifecycle lifecycle = new Lifecycle();
  private final AtomicLong generation = new AtomicLong();
  private SystemdStatus status;

  @BeforeEach
  void start() throws Exception {
    Path socket = dir.resolve("notify");
    systemd = new NotifyReceiver(AFUNIXSocketAddress.of(socket.toFile()));
    status =
        new SystemdStatus(
            SystemdNotifier.of(Map.of("NOTIFY_SOCKET", socket.toString()), () -> 5_000_000L), 2);
    status.follow(lifecycle, generation::get);
  }

  @AfterEach
  void stop() throws Exception {
    systemd.close();
  }

  @Test
  void coldStartThenSigtermSaysReadyThenStopping() throws Exception {
    generation.set(1);
    lifecycle.moveTo(Phase.SERVING, "test");
    assertThat(systemd.next())
        .isEqualTo("MAINPID=" + PID + "\nREADY=1\nSTATUS=generation 1 serving on 2 listeners");
    lifecycle.moveTo(Phase.DRAINING, "SIGTERM");
    assertThat(systemd.next()).isEqualTo("STOPPING=1\nSTATUS=generation 1 draining to stop");
    lifecycle.moveTo(Phase.STOPPED, "drained");
    assertThat(systemd.next()).isEqualTo("STATUS=generation 1 stopped");
  }

  @Test
  void theOutgoingSideReloadsFromTheWelcomeAndIsSilentOnceItDrains() throws Exception {
    generation.set(3);
    lifecycle.moveTo(Phase.SERVING, "test");
    systemd.next();
    status.phaseCompleted(SystemdStatus.HANDOVER_BEGUN_STEP, Duration.ofMillis(1));
    assertThat(systemd.next())
        .isEqualTo(
            "RELOADING=1\nMONOTONIC_USEC=5000\nSTATUS=generation 3 handing over to generation 4");
    lifecycle.moveTo(Phase.DRAINING, "generation 4 accepts now");
    assertThat(systemd.next()).isEqualTo("STATUS=generation 3 draining, generation 4 serves");
    status.handoffEnded(HandoffResult.SUCCESS, "generation 4 took over");
    lifecycle.moveTo(Phase.STOPPED, "drained");
    assertThat(systemd.anyWithin(300))
        .as("after the successor said READY=1 the old process must not overwrite its STATUS")
        .isFalse();
  }

  @Test
  void theIncomingSideSaysTakingOverThenReadyWithItsPid() throws Exception {
    generation.set(2);
    lifecycle.moveTo(Phase.TAKING_OVER, "test");
    assertThat(systemd.next()).isEqualTo("STATUS=generation 2 taking over from generation 1");
    lifecycle.moveTo(Phase.SERVING, "test");
    assertThat(systemd.next())
        .isEqualTo("MAINPID=" + PID + "\nREADY=1\nSTATUS=generation 2 serving on 2 listeners");
  }

  @Test
  void aHandoffThatFailsBeforeReadyEndsTheReloadWithReady() throws Exception {
    generation.set(1);
    lifecycle.moveTo(Phase.SERVING, "test");
    systemd.next();
    status.phaseCompleted(SystemdStatus.HANDOVER_BEGUN_STEP, Duration.ofMillis(1));
    systemd.next();
    status.handoffEnded(HandoffResult.FAILED, "successor closed the connection");
    assertThat(systemd.next())
        .isEqualTo(
            "MAINPID="
                + PID
                + "\n"
                + "READY=1\n"
                + "STATUS=generation 1 serving on 2 listeners (handoff failed: successor closed the"
                + " connection)");
  }

  @Test
  void aRefusalBeforeTheWelcomeTellsSystemdNothing() throws Exception {
    generation.set(1);
    lifecycle.moveTo(Phase.SERVING, "test");
    systemd.next();
    status.handoffEnded(HandoffResult.REFUSED, "HANDOFF_IN_PROGRESS");
    assertThat(systemd.anyWithin(300)).as("no reload was announced, so none is ended").isFalse();
  }
}
