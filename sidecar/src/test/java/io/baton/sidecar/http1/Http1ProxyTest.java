package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.upstream.TestUpstream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The HTTP/1.1 proxy on real loopback sockets: a raw client, the real handler, a real upstream. */
@Timeout(60)
class Http1ProxyTest {

  private final TestUpstream upstream = TestUpstream.start(0);
  private ProxyUnderTest proxy;

  @AfterEach
  void cleanUp() {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  private ProxyUnderTest proxyToTestUpstream() throws Exception {
    proxy = ProxyUnderTest.http(Duration.ofSeconds(5), new HostPort("127.0.0.1", upstream.port()));
    return proxy;
  }

  private static RawHttp.Response get(RawHttp http, String path) throws Exception {
    http.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    return http.read();
  }

  @Test
  void keepAliveRequestsShareOneUpstreamConnection() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      for (int i = 0; i < 5; i++) {
        RawHttp.Response r = get(http, "/load/ka-" + i);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.closes()).isFalse();
        assertThat(r.header("x-baton-generation")).isEqualTo("7");
      }
    }
    assertThat(upstream.connectionsAccepted())
        .as("pooled keep-alive upstream connection")
        .isEqualTo(1);
  }

  @Test
  void idleConnectionStaysOpenAtDrainStartAndItsNextAnswerSaysClose() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      assertThat(get(http, "/load/before-drain").closes()).isFalse();
      proxy.startDrain();
      // The connection was idle: not closed (a request may be on the wire at this very moment).
      RawHttp.Response r = get(http, "/load/after-drain");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.closes()).isTrue();
      assertThat(http.awaitEof()).isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 0);
    assertThat(upstream.idCounts()).containsEntry("after-drain", 1);
  }

  @Test
  void requestInFlightAtDrainStartCompletesWithConnectionClose() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      // 2 s: a 300 ms delay could end between two polls on a loaded machine.
      http.send("GET /delay/2000 HTTP/1.1\r\nHost: t\r\n\r\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.delayedRequestsInFlight() == 1);
      proxy.startDrain();
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.closes()).isTrue();
      assertThat(http.awaitEof()).isTrue();
    }
  }

  @Test
  void pipelinedRequestsReadBeforeTheDrainAreAllAnsweredAndOnlyTheLastSaysClose() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send(
          "GET /delay/2000 HTTP/1.1\r\nHost: t\r\n\r\nGET /load/p2 HTTP/1.1\r\nHost: t\r\n\r\n"
              + "GET /load/p3 HTTP/1.1\r\nHost: t\r\n\r\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.delayedRequestsInFlight() == 1);
      proxy.startDrain();
      RawHttp.Response first = http.read();
      RawHttp.Response second = http.read();
      RawHttp.Response third = http.read();
      assertThat(List.of(first.status(), second.status(), third.status()))
          .containsExactly(200, 200, 200);
      assertThat(second.bodyText()).contains("p2");
      assertThat(third.bodyText()).contains("p3");
      assertThat(List.of(first.closes(), second.closes(), third.closes()))
          .containsExactly(false, false, true);
      assertThat(http.awaitEof()).isTrue();
    }
  }

  @Test
  void pipelinedRequestsInOneWriteAreAnsweredInOrderExactlyOnce() throws Exception {
    proxyToTestUpstream();
    StringBuilder batch = new StringBuilder();
    for (int i = 0; i < 50; i++) {
      batch.append("GET /load/pipe-").append(i).append(" HTTP/1.1\r\nHost: t\r\n\r\n");
      if (i == 20) {
        batch.append("POST /load/pipe-post HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
      }
      if (i == 30) {
        batch.append(
            "POST /load/pipe-chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
      }
    }
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send(batch.toString());
      for (int i = 0; i < 50; i++) {
        assertThat(http.read().bodyText()).isEqualTo("ok pipe-" + i + "\n");
        if (i == 20) {
          assertThat(http.read().bodyText()).isEqualTo("ok pipe-post\n");
        }
        if (i == 30) {
          assertThat(http.read().bodyText()).isEqualTo("ok pipe-chunked\n");
        }
      }
      assertThat(get(http, "/load/after-pipe").status()).isEqualTo(200);
    }
    assertThat(upstream.idCounts())
        .hasSize(53)
        .allSatisfy((id, n) -> assertThat(n).as("arrivals of %s", id).isEqualTo(1));
  }

  @Test
  void headResponseHasHeadersButNoBodyAndTheConnectionGoesOn() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send("HEAD /load/head HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response head = http.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length"))
          .as("the length of the body a GET would get")
          .isEqualTo("8");
      RawHttp.Response next = get(http, "/load/after-head");
      assertThat(next.bodyText())
          .as("no body bytes of the HEAD answer before this one")
          .isEqualTo("ok after-head\n");
    }
  }

  @Test
  void anHttp10ClientGetsAChunkedUpstreamBodyUnchunkedUntilTheClose() throws Exception {
    proxyToTestUpstream();
    try (Socket s = new Socket("127.0.0.1", proxy.address().getPort())) {
      s.setSoTimeout(30_000);
      s.getOutputStream()
          .write(
              "POST /echo HTTP/1.0\r\nContent-Length: 11\r\n\r\nhello 1.0!\n"
                  .getBytes(StandardCharsets.ISO_8859_1));
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);

      String head = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase(Locale.ROOT);
      assertThat(head).startsWith("http/1.1 200").contains("connection: close");
      assertThat(head).doesNotContain("transfer-encoding");
      assertThat(answer.substring(answer.indexOf("\r\n\r\n") + 4)).isEqualTo("hello 1.0!\n");
    }
  }

  @Test
  void requestWithBothChunkedAndContentLengthGets400AndTheConnectionCloses() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send(
          "POST /load/smuggle HTTP/1.1\r\n"
              + "Host: t\r\n"
              + "Content-Length: 4\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + "3\r\n"
              + "abc\r\n"
              + "0\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status())
          .as("both framings (a request smuggling attempt): refused")
          .isEqualTo(400);
      assertThat(r.closes()).isTrue();
      assertThat(http.awaitEof()).isTrue();
    }
    assertThat(upstream.idCounts()).as("nothing reached the upstream").doesNotContainKey("smuggle");
  }

  @Test
  void expectContinueIsAnsweredAndTheBodyFollows() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send(
          "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      assertThat(http.read().status()).isEqualTo(100);
      http.send("hello");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo("hello");
    }
  }

  @Test
  void statusClassesAreCountedPerListener() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      assertThat(get(http, "/load/m1").status()).isEqualTo(200);
      assertThat(get(http, "/status/404").status()).isEqualTo(404);
    }
    // Counted when the proxy's write completes, which may be just after the client read the bytes.
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(proxy.metrics.scrape())
                    .contains(
                        "baton_requests_total{code_class=\"2xx\",listener=\"web\",protocol=\"http1\"}"
                            + " 1.0")
                    .contains(
                        "baton_requests_total{code_class=\"4xx\",listener=\"web\",protocol=\"http1\"}"
                            + " 1.0")
                    .contains("baton_requests_active{listener=\"web\",protocol=\"http1\"} 0.0"));
  }

  @Test
  void hopByHopHeadersStopAtTheProxyAndForwardedForIsAppended() throws Exception {
    try (ServerSocket scripted = new ServerSocket(0)) {
      proxy =
          ProxyUnderTest.http(
              Duration.ofSeconds(5), new HostPort("127.0.0.1", scripted.getLocalPort()));
      CompletableFuture<List<String>> seen =
          CompletableFuture.supplyAsync(
              () -> {
                try (Socket s = scripted.accept()) {
                  BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
                  List<String> head = new ArrayList<>();
                  for (String l = in.readLine(); l != null && !l.isEmpty(); l = in.readLine()) {
                    head.add(l.toLowerCase());
                  }
                  OutputStream out = s.getOutputStream();
                  out.write(
                      ("HTTP/1.1 200 OK\r\n"
                              + "Content-Length: 2\r\n"
                              + "Connection: x-upstream-hop\r\n"
                              + "X-Upstream-Hop: 1\r\n"
                              + "Keep-Alive: timeout=5\r\n"
                              + "X-End-To-End: yes\r\n\r\n"
                              + "ok")
                          .getBytes(StandardCharsets.ISO_8859_1));
                  out.flush();
                  return head;
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      try (RawHttp http = new RawHttp(proxy.address())) {
        http.send(
            "GET /h HTTP/1.1\r\n"
                + "Host: t\r\n"
                + "Connection: keep-alive, x-client-hop\r\n"
                + "X-Client-Hop: 1\r\n"
                + "Keep-Alive: timeout=5\r\n"
                + "X-Forwarded-For: 10.0.0.1\r\n"
                + "X-End-To-End: yes\r\n\r\n");
        RawHttp.Response r = http.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers())
            .doesNotContainKeys("x-upstream-hop", "keep-alive")
            .containsEntry("x-end-to-end", "yes");
        proxy.close();
        proxy = null;
      }
      List<String> head = seen.get(30, TimeUnit.SECONDS);
      assertThat(head).contains("x-forwarded-for: 10.0.0.1, 127.0.0.1", "x-end-to-end: yes");
      assertThat(head)
          .noneMatch(
              h ->
                  h.startsWith("x-client-hop")
                      || h.startsWith("keep-alive")
                      || h.startsWith("connection"));
    }
  }

  @Test
  void malformedRequestGets400AndCloses() throws Exception {
    proxyToTestUpstream();
    try (RawHttp http = new RawHttp(proxy.address())) {
      http.send(
          "GET / HTTP/1.1\r\nHost: t\r\nBad Header Without Colon\r\n"
              + "X: "
              + "y".repeat(20_000)
              + "\r\n\r\n");
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.closes()).isTrue();
      assertThat(http.awaitEof()).isTrue();
    }
  }

  @Test
  void responseTimeoutIs504AndCountedWithItsReason() throws Exception {
    proxy = ProxyUnderTest.http(Duration.ofMillis(200), new HostPort("127.0.0.1", upstream.port()));
    try (RawHttp http = new RawHttp(proxy.address())) {
      RawHttp.Response r = get(http, "/delay/3000");
      assertThat(r.status()).isEqualTo(504);
      assertThat(get(http, "/load/after-504").status())
          .as("the client connection stays usable")
          .isEqualTo(200);
    }
    assertThat(proxy.metrics.scrape())
        .contains(
            "baton_upstream_errors_total{cluster=\"backend\",reason=\"response_timeout\"} 1.0");
  }
}
