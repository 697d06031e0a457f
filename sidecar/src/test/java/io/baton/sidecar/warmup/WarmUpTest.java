package io.baton.sidecar.warmup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.listener.EventLoops;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class WarmUpTest {

  private final EventLoops loops = EventLoops.start(2);

  @AfterEach
  void stop() {
    loops.close();
  }

  @Test
  void everyPathTheConfigHasGetsItsShareOfTheBudgetAndNothingIsLeftOpen() throws IOException {
    List<ListenerConfig> listeners =
        List.of(
            new ListenerConfig(
                "web", HostPort.parse("127.0.0.1:8080"), ListenerProtocol.HTTP, "app"),
            new ListenerConfig("db", HostPort.parse("127.0.0.1:5432"), ListenerProtocol.TCP, "pg"));
    List<ClusterConfig> clusters =
        List.of(
            cluster("app", UpstreamProtocol.HTTP1),
            cluster("pg", UpstreamProtocol.HTTP1),
            cluster("grpc", UpstreamProtocol.H2C));
    // A first run loads what the event loops need at all; the second is measured for leaks.
    WarmUp.run(
        loops.group(),
        listeners,
        clusters,
        2,
        Duration.ofSeconds(1),
        new WarmUp.Budget(40, Duration.ofSeconds(20)));
    long fdsBefore = openFds();

    WarmUp.Report report =
        WarmUp.run(
            loops.group(),
            listeners,
            clusters,
            2,
            Duration.ofSeconds(1),
            new WarmUp.Budget(200, Duration.ofSeconds(20)));

    assertThat(report.timedOut()).isFalse();
    assertThat(report.answered())
        .containsExactly(
            Map.entry("http1 keep-alive", 200),
            Map.entry("http1 close", 10),
            Map.entry("h2c", 100),
            Map.entry("h2c to an h2c cluster", 100),
            Map.entry("http1 to an h2c cluster", 50),
            Map.entry("tcp relay", 10));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(openFds())
                    .as("listeners, upstreams, client and pooled connections all closed")
                    .isLessThanOrEqualTo(fdsBefore));
  }

  @Test
  void aTcpOnlyConfigWarmsTheRelayAndNoHttpPath() {
    WarmUp.Report report =
        WarmUp.run(
            loops.group(),
            List.of(
                new ListenerConfig(
                    "db", HostPort.parse("127.0.0.1:5432"), ListenerProtocol.TCP, "pg")),
            List.of(cluster("pg", UpstreamProtocol.HTTP1)),
            2,
            Duration.ofSeconds(1),
            new WarmUp.Budget(100, Duration.ofSeconds(20)));

    assertThat(report.answered()).containsOnlyKeys("tcp relay").containsEntry("tcp relay", 5);
  }

  @Test
  void aZeroBudgetDoesNothing() {
    WarmUp.Report report =
        WarmUp.run(
            loops.group(),
            List.of(),
            List.of(),
            2,
            Duration.ofSeconds(1),
            new WarmUp.Budget(0, Duration.ofSeconds(2)));

    assertThat(report.answered()).isEmpty();
    assertThat(report.took()).isZero();
  }

  @Test
  void aWarmUpOutOfTimeStopsAtItsTimeoutAndSaysSo() {
    WarmUp.Report report =
        WarmUp.run(
            loops.group(),
            List.of(
                new ListenerConfig(
                    "web", HostPort.parse("127.0.0.1:8080"), ListenerProtocol.HTTP, "app")),
            List.of(cluster("app", UpstreamProtocol.HTTP1)),
            2,
            Duration.ofSeconds(1),
            new WarmUp.Budget(10_000_000, Duration.ofMillis(300)));

    assertThat(report.timedOut()).isTrue();
    assertThat(report.took()).isLessThan(Duration.ofSeconds(10));
  }

  private static ClusterConfig cluster(String name, UpstreamProtocol protocol) {
    return new ClusterConfig(
        name,
        List.of(HostPort.parse("127.0.0.1:9")),
        Duration.ofSeconds(1),
        Duration.ofSeconds(1),
        Duration.ofSeconds(1),
        Optional.empty(),
        protocol,
        Optional.empty());
  }

  private static long openFds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
