package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.sidecar.http2.H2TestClient;
import io.baton.sidecar.http2.H2cEchoUpstream;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.process.BatonProcess;
import io.baton.testkit.upstream.TestUpstream;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * HTTP/2 with prior knowledge through the packaged jar: to an h2c cluster and to an HTTP/1.1
 * cluster, and the two-phase GOAWAY drain of an h2 connection across a handoff. (Loads across
 * handoffs are the h2 test kit's.)
 */
@Timeout(180)
@ExtendWith(DumpLogsOnFailure.class)
class Http2ThroughJarTest {

  private final BatonFixture fixture = new BatonFixture();
  private H2cEchoUpstream h2c;
  private TestUpstream h1;
  private Path config;

  @BeforeEach
  void start() {
    h2c = new H2cEchoUpstream(100);
    h1 = TestUpstream.start(0);
    config =
        fixture
            .config()
            .servingHeader(true)
            .drainTimeout("60s")
            .http2GoawayDelay("500ms")
            .httpListener("grpc", "127.0.0.1:0", "h2c-backend")
            .httpListener("web", "127.0.0.1:0", "h1-backend")
            .h2cCluster("h2c-backend", h2c.endpoint().toString())
            .cluster("h1-backend", "127.0.0.1:" + h1.port())
            .write();
  }

  @AfterEach
  void stop() {
    fixture.close();
    h2c.close();
    h1.close();
  }

  @Test
  void h2ClientsReachAnH2cClusterMultiplexedAndAnHttp1Cluster() throws Exception {
    ServingLine serving = fixture.start(config).awaitServing(Generations.WAIT);
    try (H2TestClient toH2c = new H2TestClient(serving.listener("grpc"));
        H2TestClient toH1 = new H2TestClient(serving.listener("web"))) {
      H2TestClient.Response echo =
          toH2c
              .send(
                  H2TestClient.post("/echo"),
                  List.of("through ", "the jar"),
                  new DefaultHttp2Headers().set("x-echo-trailer", "t"))
              .get(30, TimeUnit.SECONDS);
      assertThat(echo.status()).isEqualTo("200");
      assertThat(echo.bodyText()).isEqualTo("through the jar");
      assertThat(String.valueOf(echo.trailers().get("x-echo-trailer"))).isEqualTo("t");

      List<CompletableFuture<H2TestClient.Response>> held = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        held.add(toH2c.get("/hold", null));
      }
      await().atMost(Generations.WAIT).until(() -> h2c.heldStreams() == 10);
      h2c.releaseHeld();
      for (CompletableFuture<H2TestClient.Response> r : held) {
        assertThat(r.get(30, TimeUnit.SECONDS).status()).isEqualTo("200");
      }
      assertThat(h2c.connectionsAccepted())
          .as("11 streams of one client connection, one upstream connection")
          .isEqualTo(1);

      // An HTTP/1.1 client of the h2c cluster: one stream of the same pooled connections.
      try (RawHttp http = new RawHttp(serving.listener("grpc"))) {
        http.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
        RawHttp.Response r = http.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("hello");
      }

      H2TestClient.Response viaH1 =
          toH1.get("/load/h2-through-jar", null).get(30, TimeUnit.SECONDS);
      assertThat(viaH1.status()).isEqualTo("200");
      assertThat(String.valueOf(viaH1.headers().get("x-baton-generation"))).isEqualTo("1");
      assertThat(h1.idCounts()).containsEntry("h2-through-jar", 1);
    }
    await()
        .atMost(Generations.WAIT)
        .untilAsserted(
            () ->
                assertThat(Admin.metrics(serving.admin()))
                    .contains(
                        "baton_requests_total{code_class=\"2xx\",listener=\"grpc\",protocol=\"h2\"}"
                            + " 11.0")
                    .contains(
                        "baton_requests_total{code_class=\"2xx\",listener=\"grpc\",protocol=\"http1\"}"
                            + " 1.0")
                    .contains(
                        "baton_requests_total{code_class=\"2xx\",listener=\"web\",protocol=\"h2\"}"
                            + " 1.0"));
  }

  @Test
  void aHandoffDrainsAnH2ConnectionWithTwoGoawaysWhileItsStreamCompletes() throws Exception {
    Generations generations = new Generations(fixture, config);
    ServingLine first = generations.start();
    BatonProcess old = generations.active();
    try (H2TestClient client = new H2TestClient(first.listener("grpc"))) {
      CompletableFuture<H2TestClient.Response> held = client.get("/hold", null);
      await().atMost(Generations.WAIT).until(() -> h2c.heldStreams() == 1);

      BatonProcess next = fixture.start(config);
      ServingLine second = next.awaitServing(Generations.WAIT);
      assertThat(second.generation()).isEqualTo(2);
      // The drain counts the h2 connection and its stream (the line that fails if streams were not
      // requests).
      old.awaitLogLine("drain started: 1 connections open, 1 requests in flight", Generations.WAIT);

      assertThat(client.connectionFrames.poll(30, TimeUnit.SECONDS))
          .isEqualTo("GOAWAY " + Integer.MAX_VALUE + " 0");
      assertThat(client.connectionFrames.poll(30, TimeUnit.SECONDS)).isEqualTo("PING");
      assertThat(client.connectionFrames.poll(30, TimeUnit.SECONDS))
          .matches("GOAWAY [1-9][0-9]* 0");
      assertThat(old.isAlive()).as("the old generation waits for the stream it accepted").isTrue();

      h2c.releaseHeld();
      H2TestClient.Response r = held.get(30, TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo("200");
      assertThat(String.valueOf(r.headers().get("x-baton-generation")))
          .as("answered by the old generation")
          .isEqualTo("1");
      assertThat(client.awaitClosed(30)).isTrue();
      assertThat(old.awaitExit(Generations.WAIT)).isZero();

      try (H2TestClient again = new H2TestClient(second.listener("grpc"))) {
        H2TestClient.Response fresh = again.get("/load", null).get(30, TimeUnit.SECONDS);
        assertThat(String.valueOf(fresh.headers().get("x-baton-generation"))).isEqualTo("2");
      }
    }
  }
}
