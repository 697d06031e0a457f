package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.load.H2LoadClient;
import io.baton.testkit.load.H2LoadResult;
import io.baton.testkit.upstream.TestH2Upstream;
import io.baton.testkit.upstream.TestUpstream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ten handoffs under an h2c load of 16 connections x 8 concurrent streams lose nothing. The client
 * ({@link H2LoadClient}) never retries a stream the server may have processed; it honours GOAWAY
 * and sends again only streams provably never processed (above the final last-stream-id, or
 * REFUSED_STREAM), with their id. The upstream records every id: each must arrive exactly once.
 *
 * <p>Run with the cluster speaking h2c (streams proxied onto HTTP/2 upstream connections) and http1
 * (each stream becomes an HTTP/1.1 request). Each stream is kept in flight for 20 ms at the
 * upstream, so every drain finds accepted streams that must finish.
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class Http2HandoffUnderLoadTest {

  private static final int HANDOFFS = 10;
  private static final int CONNECTIONS = 16;
  private static final int STREAMS = 8;

  private final BatonFixture fixture = new BatonFixture();
  private AutoCloseable upstream;

  @AfterEach
  void cleanUp() throws Exception {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @ParameterizedTest(name = "cluster protocol {0}")
  @ValueSource(strings = {"h2c", "http1"})
  void h2cLoadLosesNothingAcrossTenHandoffs(String clusterProtocol) throws Exception {
    int upstreamPort;
    Supplier<Map<String, Integer>> arrivedIds;
    if (clusterProtocol.equals("h2c")) {
      TestH2Upstream h2 = TestH2Upstream.start(0, 0);
      upstream = h2;
      upstreamPort = h2.port();
      arrivedIds = h2::idCounts;
    } else {
      TestUpstream h1 = TestUpstream.start(0);
      upstream = h1;
      upstreamPort = h1.port();
      arrivedIds = h1::idCounts;
    }
    Path config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("30s")
            .httpListener("web", "127.0.0.1:0", "backend")
            .clusterOfProtocol("backend", clusterProtocol, "127.0.0.1:" + upstreamPort)
            .write();
    Generations generations = new Generations(fixture, config);
    InetSocketAddress web = generations.start().listener("web");

    H2LoadClient load =
        H2LoadClient.builder(web.getHostString(), web.getPort())
            .connections(CONNECTIONS)
            .streams(STREAMS)
            .query("?delay=20")
            .maxDuration(Duration.ofMinutes(3))
            .build()
            .start();
    try {
      for (int i = 1; i <= HANDOFFS; i++) {
        long before = load.result().completed();
        ServingLine next = generations.handOff();
        assertThat(next.generation()).isEqualTo(i + 1);
        // Streams keep completing between handoffs, so each handoff happens under load.
        Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> load.result().completed() > before + CONNECTIONS * STREAMS);
      }
    } finally {
      load.stop();
    }
    H2LoadResult result = load.awaitResult(Duration.ofSeconds(60));
    System.out.println(
        "h2c load (cluster " + clusterProtocol + ") across " + HANDOFFS + " handoffs: " + result);

    assertThat(result.finished()).as("every stream ended: %s", result).isTrue();
    assertThat(result.failed())
        .as("failed streams across %d handoffs: %s", HANDOFFS, result)
        .isZero();
    assertThat(result.completed()).isEqualTo(result.attempted());
    assertThat(result.goawaysReceived())
        .as("each drain sent GOAWAY on every connection")
        .isGreaterThanOrEqualTo(HANDOFFS);
    Map<String, Integer> arrived = arrivedIds.get();
    // Set equality, not containsExactlyInAnyOrder: that one is quadratic over ~10^5 ids.
    assertThat(arrived.keySet())
        .as("every id sent arrived at the upstream, and nothing else")
        .isEqualTo(new HashSet<>(load.idsSent()));
    assertThat(arrived.values())
        .as("and exactly once (a refused stream sent again counts once)")
        .allMatch(n -> n == 1);
    assertThat(result.perGeneration().keySet())
        .as("streams served by the first and the last generation")
        .contains("1", String.valueOf(HANDOFFS + 1));
  }
}
