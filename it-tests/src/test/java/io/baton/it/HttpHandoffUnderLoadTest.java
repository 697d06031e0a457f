package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.upstream.TestUpstream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The product's promise: ten handoffs under an HTTP/1.1 load lose nothing. The client never
 * retries; the upstream records every request id, and each must arrive exactly once.
 *
 * <p>With {@code drain.migrate: false}: every connection is drained by the process that accepted it
 * (the path for connections that cannot move). {@code MigrationTest} covers migration.
 */
@Timeout(600)
@ExtendWith(DumpLogsOnFailure.class)
class HttpHandoffUnderLoadTest {

  private static final int HANDOFFS = 10;
  private static final int CLIENTS = 32;

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;

  @AfterEach
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void keepAliveLoadOf32ClientsLosesNothingAcrossTenHandoffs() throws Exception {
    LoadResult result = handOffTenTimesUnder(LoadClient.Mode.KEEP_ALIVE);
    assertThat(result.connectionCloseResponses())
        .as(
            "each drain answers a keep-alive client with Connection: close; it reconnects, not"
                + " retries")
        .isPositive();
  }

  @Test
  void connectionCloseLoadOf32ClientsLosesNothingAcrossTenHandoffs() throws Exception {
    handOffTenTimesUnder(LoadClient.Mode.CLOSE);
  }

  private LoadResult handOffTenTimesUnder(LoadClient.Mode mode) throws Exception {
    upstream = TestUpstream.start(0);
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("30s")
            .migrate(false)
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .write();
    Generations generations = new Generations(fixture, config);
    ServingLine first = generations.start();
    InetSocketAddress web = first.listener("web");

    LoadClient load =
        LoadClient.builder(web.getHostString(), web.getPort())
            .workers(CLIENTS)
            .mode(mode)
            .maxDuration(Duration.ofMinutes(5))
            .build();
    load.start();
    try {
      for (int i = 1; i <= HANDOFFS; i++) {
        long before = load.result().ok();
        generations.handOff();
        // Requests keep succeeding between handoffs, so each handoff happens under load.
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> load.result().ok() > before + CLIENTS);
      }
    } finally {
      load.stop();
    }
    LoadResult result = load.awaitResult(Duration.ofSeconds(60));

    assertThat(result.failed())
        .as("failed requests across %d handoffs: %s", HANDOFFS, result)
        .isZero();
    assertThat(result.ok()).isEqualTo(load.idsSent().size());
    Map<String, Integer> arrived = upstream.idCounts();
    // Set equality, not containsExactlyInAnyOrder: that one is quadratic over ~10^5 ids.
    assertThat(arrived.keySet())
        .as("every id sent arrived at the upstream, and nothing else")
        .isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
    assertThat(result.perGeneration().keySet())
        .as("requests served by the first and the last generation")
        .contains("1", String.valueOf(HANDOFFS + 1));
    System.out.println(mode + " load across " + HANDOFFS + " handoffs: " + result);
    return result;
  }
}
