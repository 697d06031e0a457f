package io.baton.sidecar.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketAddress;

@Timeout(30)
class SystemdNotifierTest {

  private static final long PID = ProcessHandle.current().pid();

  @TempDir Path dir;

  @Test
  void readyNamesThisProcessAsMainPidInOneDatagram() throws Exception {
    Path socket = dir.resolve("notify");
    try (NotifyReceiver systemd = new NotifyReceiver(AFUNIXSocketAddress.of(socket.toFile()))) {
      SystemdNotifier notifier =
          SystemdNotifier.of(Map.of("NOTIFY_SOCKET", socket.toString()), System::nanoTime);
      notifier.ready("generation 1 serving on 2 listeners");
      assertThat(systemd.next())
          .isEqualTo("MAINPID=" + PID + "\nREADY=1\nSTATUS=generation 1 serving on 2 listeners");
    }
  }

  @Test
  void reloadingCarriesTheMonotonicClockInMicroseconds() throws Exception {
    Path socket = dir.resolve("notify");
    try (NotifyReceiver systemd = new NotifyReceiver(AFUNIXSocketAddress.of(socket.toFile()))) {
      SystemdNotifier notifier =
          SystemdNotifier.of(Map.of("NOTIFY_SOCKET", socket.toString()), () -> 7_654_321_000L);
      notifier.reloading("generation 1 handing over to generation 2");
      assertThat(systemd.next())
          .isEqualTo(
              "RELOADING=1\n"
                  + "MONOTONIC_USEC=7654321\n"
                  + "STATUS=generation 1 handing over to generation 2");
      notifier.stopping("generation 1 draining to stop");
      assertThat(systemd.next()).isEqualTo("STOPPING=1\nSTATUS=generation 1 draining to stop");
    }
  }

  @Test
  void anAtSignNamesTheAbstractNamespace() throws Exception {
    String name = "baton-test-" + UUID.randomUUID();
    try (NotifyReceiver systemd =
        new NotifyReceiver(AFUNIXSocketAddress.inAbstractNamespace(name))) {
      SystemdNotifier.of(Map.of("NOTIFY_SOCKET", "@" + name), System::nanoTime)
          .status("generation 4 stopped");
      assertThat(systemd.next()).isEqualTo("STATUS=generation 4 stopped");
    }
  }

  @Test
  void withoutNotifySocketNothingIsSent() {
    assertThat(SystemdNotifier.of(Map.of(), System::nanoTime).isEnabled()).isFalse();
    assertThat(
            SystemdNotifier.of(Map.of("NOTIFY_SOCKET", "relative/path"), System::nanoTime)
                .isEnabled())
        .as("a NOTIFY_SOCKET that is neither a path nor @name turns notifications off")
        .isFalse();
  }

  @Test
  void aSocketNobodyListensOnIsNotAnError() {
    SystemdNotifier notifier =
        SystemdNotifier.of(
            Map.of("NOTIFY_SOCKET", new File(dir.toFile(), "absent").getPath()), System::nanoTime);
    assertThat(notifier.isEnabled()).isTrue();
    // Logged once, never thrown: systemd going away must not stop Baton.
    notifier.ready("generation 1 serving on 1 listeners");
    notifier.ready("generation 1 serving on 1 listeners");
  }
}
