package io.baton.sidecar.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConnectionLimitLogTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final List<String> lines = new ArrayList<>();
  private final ConnectionLimitLog limitLog =
      new ConnectionLimitLog(
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
    limitLog.reached("web", 100);
    limitLog.reached("web", 100);
    limitLog.reached("web", 100);
    nanos.addAndGet(ConnectionLimitLog.INTERVAL.toNanos());
    limitLog.reached("web", 101);

    assertThat(lines)
        .containsExactly(
            "listener web: 100 connections open, its limit (maxConnections 100): not accepting"
                + " until one closes; new clients wait in the kernel's queue",
            "listener web: 101 connections open, its limit (maxConnections 100): not accepting"
                + " until one closes; new clients wait in the kernel's queue (reached 2 more times"
                + " since the last report)");
  }

  @Test
  void eachListenerHasItsOwnInterval() {
    limitLog.reached("web", 100);
    limitLog.reached("other", 5);

    assertThat(lines).hasSize(2);
  }
}
