package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** HTTP/1.1 behaviour of the packaged jar, on the wire, with a 64 MiB heap. */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(DumpLogsOnFailure.class)
class Http1ThroughJarTest {

  private static final long HUNDRED_MIB = 100L * 1024 * 1024;

  private final BatonFixture fixture = new BatonFixture();
  private TestUpstream upstream;
  private ServingLine serving;

  @BeforeAll
  void start() throws Exception {
    upstream = TestUpstream.start(0);
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .httpListener("refused", "127.0.0.1:0", "nobody-home")
            .httpListener("empty", "127.0.0.1:0", "no-endpoints")
            .httpListener("slow", "127.0.0.1:0", "impatient")
            .cluster("backend", "127.0.0.1:" + upstream.port())
            .cluster("nobody-home", "127.0.0.1:" + closedPort)
            .cluster("no-endpoints")
            .clusterWithRequestTimeout("impatient", "1s", "127.0.0.1:" + upstream.port())
            .write();
    // A heap far smaller than the bodies below: they must stream, not be held.
    serving =
        fixture
            .start(config, Map.of("JAVA_TOOL_OPTIONS", "-Xmx64m"))
            .awaitServing(Duration.ofSeconds(60));
  }

  @AfterAll
  void stop() {
    fixture.close();
    upstream.close();
  }

  private InetSocketAddress web() {
    return serving.listener("web");
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderOnOneConnection() throws Exception {
    try (RawHttp http = new RawHttp(web())) {
      http.send(
          "GET /load/pipe-a HTTP/1.1\r\nHost: t\r\n\r\nGET /load/pipe-b HTTP/1.1\r\nHost: t\r\n\r\n"
              + "GET /load/pipe-c HTTP/1.1\r\nHost: t\r\n\r\n");
      for (String id : new String[] {"pipe-a", "pipe-b", "pipe-c"}) {
        RawHttp.Response r = http.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bodyText()).contains(id);
      }
    }
    assertThat(upstream.idCounts())
        .containsEntry("pipe-a", 1)
        .containsEntry("pipe-b", 1)
        .containsEntry("pipe-c", 1);
  }

  @Test
  void chunkedUploadIsEchoedByteForByte() throws Exception {
    try (RawHttp http = new RawHttp(web())) {
      StringBuilder req =
          new StringBuilder("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 50; i++) {
        String part = "chunk-" + i + "-" + "x".repeat(i * 37);
        body.append(part);
        req.append(Integer.toHexString(part.length())).append("\r\n").append(part).append("\r\n");
      }
      req.append("0\r\n\r\n");
      http.send(req.toString());
      RawHttp.Response r = http.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyText()).isEqualTo(body.toString());
    }
  }

  @Test
  void hundredMebibyteUploadStreamsThroughA64MebibyteHeap() throws Exception {
    try (RawHttp http = new RawHttp(web())) {
      http.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + HUNDRED_MIB + "\r\n\r\n");
      MessageDigest sent = RawHttp.sha256();
      // The echo comes back while we upload: read it on another thread or both sides stall.
      var response =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return http.read(false);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      OutputStream out = http.output();
      Random random = new Random(7);
      byte[] chunk = new byte[64 * 1024];
      for (long n = 0; n < HUNDRED_MIB; n += chunk.length) {
        random.nextBytes(chunk);
        sent.update(chunk);
        out.write(chunk);
      }
      out.flush();
      RawHttp.Response r = response.get();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyLength()).isEqualTo(HUNDRED_MIB);
      assertThat(r.sha256()).isEqualTo(HexFormat.of().formatHex(sent.digest()));
    }
  }

  @Test
  void hundredMebibyteDownloadIsIdenticalToTheDirectOne() throws Exception {
    RawHttp.Response direct;
    try (RawHttp http = new RawHttp(new InetSocketAddress("127.0.0.1", upstream.port()))) {
      http.send("GET /bytes/" + HUNDRED_MIB + " HTTP/1.1\r\nHost: t\r\n\r\n");
      direct = http.read(false);
    }
    try (RawHttp http = new RawHttp(web())) {
      http.send("GET /bytes/" + HUNDRED_MIB + " HTTP/1.1\r\nHost: t\r\n\r\n");
      RawHttp.Response proxied = http.read(false);
      assertThat(proxied.status()).isEqualTo(200);
      assertThat(proxied.bodyLength()).isEqualTo(HUNDRED_MIB);
      assertThat(proxied.sha256()).isEqualTo(direct.sha256());
    }
  }

  @Test
  void refusedUpstreamIs502NoEndpointIs503SlowUpstreamIs504() throws Exception {
    assertThat(get(serving.listener("refused"), "/load/x").status()).isEqualTo(502);
    assertThat(get(serving.listener("empty"), "/load/x").status()).isEqualTo(503);
    assertThat(get(serving.listener("slow"), "/delay/5000").status()).isEqualTo(504);
    String metrics = Admin.metrics(serving.admin());
    assertThat(metrics)
        .containsPattern(
            "baton_upstream_errors_total\\{cluster=\"nobody-home\",reason=\"connect_failed\"}"
                + " 1\\.0")
        .containsPattern(
            "baton_upstream_errors_total\\{cluster=\"no-endpoints\",reason=\"no_endpoint\"} 1\\.0")
        .containsPattern(
            "baton_upstream_errors_total\\{cluster=\"impatient\",reason=\"response_timeout\"}"
                + " 1\\.0");
  }

  @Test
  void malformedRequestGets400AndItsConnectionClosesWhileOthersWork() throws Exception {
    try (RawHttp good = new RawHttp(web());
        RawHttp bad = new RawHttp(web())) {
      good.send("GET /load/before-garbage HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(good.read().status()).isEqualTo(200);

      bad.send("THIS IS NOT HTTP\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      RawHttp.Response r = bad.read();
      assertThat(r.status()).isEqualTo(400);
      assertThat(bad.awaitEof()).as("the connection of the malformed request closes").isTrue();

      good.send("GET /load/after-garbage HTTP/1.1\r\nHost: t\r\n\r\n");
      assertThat(good.read().status())
          .as("another client's keep-alive connection is unaffected")
          .isEqualTo(200);
    }
  }

  private static RawHttp.Response get(InetSocketAddress address, String path) throws Exception {
    try (RawHttp http = new RawHttp(address)) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
      return http.read();
    }
  }
}
