package io.baton.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AcceptPauseLogTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<String> lines = new ArrayList<>();
  private final AcceptPauseLog pauses =
      new AcceptPauseLog(
          List.of(
              new ListenerConfig(
                  "web",
                  HostPort.parse("127.0.0.1:8080"),
                  ListenerProtocol.HTTP,
                  "backend",
                  Optional.empty(),
                  100)),
          nanos::get,
          lines::add);

  @Test
  void saysOncePerIntervalAndCountsWhatItDidNotSay() {
    pauses.limitReached("web", 100);
    pauses.limitReached("web", 100);
    pauses.limitReached("web", 100);
    nanos.addAndGet(AcceptPauseLog.INTERVAL.toNanos());
    pauses.limitReached("web", 101);

    assertThat(lines)
        .containsExactly(
            "listener web: 100 connections open, its limit (maxConnections 100): not accepting"
                + " until one closes; new clients wait in the kernel's queue",
            "listener web: 101 connections open, its limit (maxConnections 100): not accepting"
                + " until one closes; new clients wait in the kernel's queue (2 more times since"
                + " the last report)");
  }

  @Test
  void eachListenerAndReasonHasItsOwnInterval() {
    pauses.limitReached("web", 100);
    pauses.limitReached("other", 5);
    pauses.shortOfFds("web", 7, "90 of 100 file descriptors in use (ulimit -n), 16 kept", null);

    assertThat(lines).hasSize(3);
  }

  @Test
  void aFailedAcceptIsNamedWithTheBudget() {
    pauses.shortOfFds(
        "web", 3, "100 of 100 file descriptors in use", new IOException("Too many open files"));

    assertThat(lines)
        .containsExactly(
            "listener web: accept failed (Too many open files); 100 of 100 file descriptors in"
                + " use, 3 connections open here: not accepting until descriptors are freed; new"
                + " clients wait in the kernel's queue");
  }
}
