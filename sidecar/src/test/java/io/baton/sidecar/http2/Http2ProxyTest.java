package io.baton.sidecar.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.DrainConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.upstream.TestUpstream;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2ProxyTest {

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private static ProxyUnderTest proxy(UpstreamProtocol protocol, HostPort... endpoints)
      throws Exception {
    return ProxyUnderTest.http(
        REQUEST_TIMEOUT, protocol, DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY, endpoints);
  }

  private static Http2Headers grpcHeaders() {
    return H2TestClient.post("/pkg.Service/Method")
        .set("content-type", "application/grpc")
        .set("te", "trailers");
  }

  /** A port nothing listens on: bound, then closed. */
  private static HostPort refusingEndpoint() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return new HostPort("127.0.0.1", s.getLocalPort());
    }
  }

  @Test
  void h2WithPriorKnowledgeAndHttp1ShareOneListener() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        TestUpstream h1 = TestUpstream.start(0);
        ProxyUnderTest h2Proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        ProxyUnderTest h1Proxy =
            proxy(UpstreamProtocol.HTTP1, new HostPort("127.0.0.1", h1.port()));
        H2TestClient client = new H2TestClient(h1Proxy.address())) {
      H2TestClient.Response h2 = client.get("/load/a", null).get(10, TimeUnit.SECONDS);
      assertThat(h2.status()).isEqualTo("200");
      assertThat(String.valueOf(h2.headers().get("x-baton-generation")))
          .as("admin.servingHeader on h2")
          .isEqualTo("7");
      try (RawHttp http = new RawHttp(h1Proxy.address())) {
        http.send("GET /load/b HTTP/1.1\r\nHost: t\r\n\r\n");
        assertThat(http.read().status())
            .as("an HTTP/1.1 client on the same listener")
            .isEqualTo(200);
      }
      // A request whose first bytes start like the preface ("P" of POST) is still HTTP/1.1.
      try (RawHttp http = new RawHttp(h1Proxy.address())) {
        http.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi");
        assertThat(http.read().status()).isEqualTo(200);
      }
      assertThat(h1.idCounts()).containsEntry("a", 1).containsEntry("b", 1);
    }
  }

  @Test
  void http11ClientsOfAnH2cClusterShareItsStreams() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint())) {
      for (int i = 0; i < 3; i++) {
        try (RawHttp http = new RawHttp(proxy.address())) {
          http.send(
              "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
          RawHttp.Response r = http.read();
          assertThat(r.status()).isEqualTo(200);
          assertThat(r.bodyText()).isEqualTo("hello world");
          // The keep-alive client connection goes on after a stream-backed exchange.
          http.send("GET /load HTTP/1.1\r\nHost: t\r\n\r\n");
          assertThat(http.read().status()).isEqualTo(200);
        }
      }
      assertThat(upstream.streamsReceived()).isEqualTo(6);
      // The pool is per event loop (the proxy under test runs two): three clients, at most two
      // connections.
      assertThat(upstream.connectionsAccepted())
          .as("three HTTP/1.1 clients share h2c connections")
          .isLessThanOrEqualTo(2);
    }
  }

  @Test
  void anHttp11ClientOfAnUnreachableH2cClusterGets502() throws Exception {
    try (ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, refusingEndpoint());
        RawHttp http = new RawHttp(proxy.address())) {
      http.send("GET /load HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(502);
      assertThat(r.bodyText()).contains("cannot connect to");
    }
  }

  @Test
  void streamsBodyAndTrailersToAnH2cUpstreamAndBack() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      H2TestClient.Response r =
          client
              .send(
                  H2TestClient.post("/echo"),
                  List.of("one,", "two,", "three"),
                  new DefaultHttp2Headers().set("x-echo-trailer", "tail"))
              .get(10, TimeUnit.SECONDS);
      assertThat(r.status()).isEqualTo("200");
      assertThat(r.bodyText()).isEqualTo("one,two,three");
      assertThat(r.trailers()).as("the upstream's trailers reach the client").isNotNull();
      assertThat(String.valueOf(r.trailers().get("x-echo-trailer")))
          .as("the client's trailers reach the upstream")
          .isEqualTo("tail");
      assertThat(String.valueOf(r.trailers().get("grpc-status"))).isEqualTo("0");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(proxy.metrics.scrape())
                      .contains(
                          "baton_requests_total{code_class=\"2xx\",listener=\"web\",protocol=\"h2\"}"
                              + " 1.0")
                      .contains("baton_requests_active{listener=\"web\",protocol=\"h2\"} 0.0"));
    }
  }

  @Test
  void streamsToAnHttp1UpstreamAsHttp11Exchanges() throws Exception {
    try (TestUpstream h1 = TestUpstream.start(0);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.HTTP1, new HostPort("127.0.0.1", h1.port()));
        H2TestClient client = new H2TestClient(proxy.address())) {
      H2TestClient.Response echo =
          client
              .send(
                  H2TestClient.post("/echo"), List.of("a".repeat(40_000), "b".repeat(40_000)), null)
              .get(10, TimeUnit.SECONDS);
      assertThat(echo.status()).isEqualTo("200");
      assertThat(echo.bodyText()).isEqualTo("a".repeat(40_000) + "b".repeat(40_000));
      assertThat(client.get("/status/404", null).get(10, TimeUnit.SECONDS).status())
          .isEqualTo("404");
      // The same pooled HTTP/1.1 connection serves the next stream.
      for (int i = 0; i < 5; i++) {
        assertThat(client.get("/load/" + i, null).get(10, TimeUnit.SECONDS).status())
            .isEqualTo("200");
      }
      assertThat(h1.connectionsAccepted())
          .as("sequential streams reuse the keep-alive pool")
          .isEqualTo(1);
    }
  }

  @Test
  void megabytesStreamBothWaysUnderFlowControlToEitherUpstream() throws Exception {
    // 4 MiB in 64 KiB pieces: far beyond the 64 KiB stream windows on both hops, so the echo
    // only completes if WINDOW_UPDATEs flow as the proxy consumes and the client reads.
    List<String> pieces = new ArrayList<>();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 64; i++) {
      String piece = Integer.toString(i % 10).repeat(64 * 1024);
      pieces.add(piece);
      expected.append(piece);
    }
    try (H2cEchoUpstream h2c = new H2cEchoUpstream(100);
        TestUpstream h1 = TestUpstream.start(0);
        ProxyUnderTest toH2c = proxy(UpstreamProtocol.H2C, h2c.endpoint());
        ProxyUnderTest toH1 = proxy(UpstreamProtocol.HTTP1, new HostPort("127.0.0.1", h1.port()));
        H2TestClient a = new H2TestClient(toH2c.address());
        H2TestClient b = new H2TestClient(toH1.address())) {
      H2TestClient.Response viaH2c =
          a.send(H2TestClient.post("/echo"), pieces, null).get(30, TimeUnit.SECONDS);
      H2TestClient.Response viaH1 =
          b.send(H2TestClient.post("/echo"), pieces, null).get(30, TimeUnit.SECONDS);
      assertThat(viaH2c.body().length).isEqualTo(expected.length());
      assertThat(viaH2c.bodyText()).isEqualTo(expected.toString());
      assertThat(viaH1.bodyText()).isEqualTo(expected.toString());
    }
  }

  @Test
  void aStalledStreamDoesNotStallTheOtherStreamsOfItsConnections() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      // 512 KiB echoed to a stream that reads nothing: its 64 KiB window fills at the client, the
      // proxy stops reading its upstream stream, which holds another 64 KiB unconsumed there: with
      // 64 KiB connection windows the upstream connection (shared with the next stream) and the
      // client connection would both be stuck. (Fails without the WINDOW_UPDATE that
      // H2cConnection.Watcher.channelActive sends.)
      List<String> big = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        big.add("s".repeat(64 * 1024));
      }
      CompletableFuture<H2TestClient.Response> stalled =
          client.send(H2TestClient.post("/echo"), big, null, false);
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.streamsReceived() == 1);
      for (int i = 0; i < 5; i++) {
        H2TestClient.Response r =
            client
                .send(H2TestClient.post("/echo"), List.of("x".repeat(100_000)), null)
                .get(10, TimeUnit.SECONDS);
        assertThat(r.bodyText()).as("stream %d beside a stalled one", i).hasSize(100_000);
      }
      assertThat(upstream.connectionsAccepted()).as("all on one upstream connection").isEqualTo(1);
      assertThat(stalled).isNotDone();
    }
  }

  @Test
  void anUploadTheUpstreamStopsReadingDoesNotStallTheClientsOtherStreams() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      // 512 KiB to a member that reads none of it: the proxy stops reading the client's stream
      // once the member's stream window is full, and holds up to 64 KiB of it unconsumed. With a
      // 64 KiB connection window toward the client, that would stop every other stream of the
      // client's connection. (Fails without the WINDOW_UPDATE in Http2Frontend.install.)
      List<String> big = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        big.add("u".repeat(64 * 1024));
      }
      CompletableFuture<H2TestClient.Response> stalled =
          client.send(H2TestClient.post("/stall"), big, null);
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.streamsReceived() == 1);
      for (int i = 0; i < 5; i++) {
        H2TestClient.Response r =
            client
                .send(H2TestClient.post("/echo"), List.of("y".repeat(100_000)), null)
                .get(10, TimeUnit.SECONDS);
        assertThat(r.bodyText()).as("upload %d beside a stalled one", i).hasSize(100_000);
      }
      assertThat(stalled).isNotDone();
    }
  }

  @Test
  void concurrentStreamsShareUpstreamConnections() throws Exception {
    int streams = 20;
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      List<CompletableFuture<H2TestClient.Response>> responses = new ArrayList<>();
      for (int i = 0; i < streams; i++) {
        responses.add(client.get("/hold", null));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.heldStreams() == streams);
      assertThat(proxy.metrics.listener("web").requestsActive())
          .as("h2 streams count as requests in flight")
          .isEqualTo(streams);
      upstream.releaseHeld();
      for (CompletableFuture<H2TestClient.Response> r : responses) {
        assertThat(r.get(10, TimeUnit.SECONDS).status()).isEqualTo("200");
      }
      assertThat(upstream.connectionsAccepted())
          .as("%d concurrent streams multiplexed", streams)
          .isLessThan(streams)
          .isEqualTo(1);
    }
  }

  @Test
  void theUpstreamsStreamLimitSendsMoreStreamsToMoreConnections() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(2);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      // One first: its connection learns the member's SETTINGS (MAX_CONCURRENT_STREAMS 2).
      assertThat(client.get("/load", null).get(10, TimeUnit.SECONDS).status()).isEqualTo("200");
      List<CompletableFuture<H2TestClient.Response>> responses = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        responses.add(client.get("/hold", null));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.heldStreams() == 6);
      upstream.releaseHeld();
      for (CompletableFuture<H2TestClient.Response> r : responses) {
        assertThat(r.get(10, TimeUnit.SECONDS).status()).isEqualTo("200");
      }
      assertThat(upstream.maxConcurrentStreamsSeen()).isLessThanOrEqualTo(6);
      assertThat(upstream.connectionsAccepted())
          .as("6 held streams at 2 per connection")
          .isEqualTo(3);
    }
  }

  @Test
  void aStreamAboveTheUpstreamsGoawayGoesToANewConnection() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100).goAwayOnSecondStream();
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      CompletableFuture<H2TestClient.Response> first = client.get("/hold", null);
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.heldStreams() == 1);
      CompletableFuture<H2TestClient.Response> second =
          client.send(H2TestClient.post("/echo"), List.of("again"), null);
      H2TestClient.Response r = second.get(10, TimeUnit.SECONDS);
      assertThat(r.status())
          .as("refused by GOAWAY(last stream 1): never processed, so sent again")
          .isEqualTo("200");
      assertThat(r.bodyText()).as("the body kept for the retry").isEqualTo("again");
      assertThat(String.valueOf(r.headers().get("x-upstream-connection"))).isEqualTo("2");
      upstream.releaseHeld();
      assertThat(first.get(10, TimeUnit.SECONDS).status())
          .as("the stream below the last stream id completes")
          .isEqualTo("200");
    }
  }

  @Test
  void aGrpcCallTheUpstreamRefusesGetsTrailersOnlyUnavailable() throws Exception {
    try (ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, refusingEndpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      H2TestClient.Response r =
          client.send(grpcHeaders(), List.of("\0\0\0\0\0"), null).get(10, TimeUnit.SECONDS);
      assertThat(r.resetCode()).as("never a dropped stream").isEqualTo(-1);
      assertThat(r.status()).isEqualTo("200");
      assertThat(r.body()).as("trailers-only: no DATA").isEmpty();
      assertThat(String.valueOf(r.headers().get("grpc-status"))).as("UNAVAILABLE").isEqualTo("14");
      assertThat(String.valueOf(r.headers().get("grpc-message"))).contains("cannot connect to");

      H2TestClient.Response plain = client.get("/x", null).get(10, TimeUnit.SECONDS);
      assertThat(plain.status()).as("a non-gRPC request gets what HTTP/1.1 gets").isEqualTo("502");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(proxy.metrics.scrape())
                      .contains(
                          "baton_requests_total{code_class=\"5xx\",listener=\"web\",protocol=\"h2\"}"
                              + " 2.0"));
    }
  }

  @Test
  void aGrpcCallTheUpstreamResetsGetsTheMappedStatus() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      Http2Headers call = grpcHeaders().path("/reset");
      H2TestClient.Response r = client.send(call, List.of(), null).get(10, TimeUnit.SECONDS);
      assertThat(r.resetCode()).isEqualTo(-1);
      assertThat(String.valueOf(r.headers().get("grpc-status")))
          .as("RST_STREAM(INTERNAL_ERROR) is INTERNAL in grpc-java")
          .isEqualTo("13");
      assertThat(client.get("/reset", null).get(10, TimeUnit.SECONDS).status()).isEqualTo("502");
    }
  }

  @Test
  void anUpstreamResetMidResponseEndsAGrpcCallWithTrailersAndResetsAPlainStream() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(UpstreamProtocol.H2C, upstream.endpoint());
        H2TestClient client = new H2TestClient(proxy.address())) {
      H2TestClient.Response grpc =
          client
              .send(grpcHeaders().path("/reset-mid-response"), List.of(), null)
              .get(10, TimeUnit.SECONDS);
      assertThat(grpc.resetCode()).as("a gRPC call is ended, not reset").isEqualTo(-1);
      assertThat(grpc.status()).isEqualTo("200");
      assertThat(grpc.bodyText()).isEqualTo("partial");
      assertThat(grpc.trailers()).isNotNull();
      assertThat(String.valueOf(grpc.trailers().get("grpc-status")))
          .as("INTERNAL_ERROR maps to INTERNAL")
          .isEqualTo("13");

      H2TestClient.Response plain =
          client.get("/reset-mid-response", null).get(10, TimeUnit.SECONDS);
      assertThat(plain.resetCode())
          .as("the only way to tell an HTTP client its body is cut short")
          .isEqualTo(Http2Error.INTERNAL_ERROR.code());
    }
  }

  @Test
  void aGrpcCallToAClusterWithoutMembersIsUnavailable() throws Exception {
    try (ProxyUnderTest proxy = proxy(UpstreamProtocol.HTTP1);
        H2TestClient client = new H2TestClient(proxy.address())) {
      H2TestClient.Response r =
          client.send(grpcHeaders(), List.of(), null).get(10, TimeUnit.SECONDS);
      assertThat(String.valueOf(r.headers().get("grpc-status"))).isEqualTo("14");
      assertThat(client.get("/x", null).get(10, TimeUnit.SECONDS).status()).isEqualTo("503");
      assertThat(Http2Error.REFUSED_STREAM.code()).isEqualTo(7);
    }
  }
}
