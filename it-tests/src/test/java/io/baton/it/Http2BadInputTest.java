package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Generations;
import io.baton.testkit.client.RawH2Connection;
import io.baton.testkit.client.RawH2Connection.Frame;
import io.baton.testkit.load.H2LoadClient;
import io.baton.testkit.load.H2LoadResult;
import io.baton.testkit.upstream.TestH2Upstream;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Bad HTTP/2 input on one connection ends that connection with the GOAWAY error code RFC 9113 asks
 * for and a log line naming the peer and the error, while a well-behaved h2c load on other
 * connections of the same Baton sees no failure. One Baton for the class; each case runs its own
 * short load beside the bad connection.
 */
@Timeout(120)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(DumpLogsOnFailure.class)
class Http2BadInputTest {

  private static final Duration WAIT = Duration.ofSeconds(15);

  private final BatonFixture fixture = new BatonFixture();
  private TestH2Upstream upstream;
  private Generations generations;
  private InetSocketAddress web;

  @BeforeAll
  void start() {
    upstream = TestH2Upstream.start(0, 0);
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .clusterOfProtocol("backend", "h2c", "127.0.0.1:" + upstream.port())
            .write();
    generations = new Generations(fixture, config);
    web = generations.start().listener("web");
  }

  @AfterAll
  void cleanUp() {
    fixture.close();
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void aMalformedPrefaceGetsGoawayProtocolError() {
    badConnectionBesideALoad(
        "PROTOCOL_ERROR",
        c -> {
          c.sendRaw("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          assertGoAway(c.readToEnd(WAIT), RawH2Connection.PROTOCOL_ERROR);
        });
  }

  @Test
  void aMalformedFrameGetsGoawayFrameSizeError() {
    badConnectionBesideALoad(
        "FRAME_SIZE_ERROR",
        c -> {
          c.handshake(WAIT);
          // SETTINGS whose length is not a multiple of 6: FRAME_SIZE_ERROR (RFC 9113 §6.5).
          c.sendFrame(RawH2Connection.SETTINGS, 0, 0, new byte[5]);
          assertGoAway(c.readToEnd(WAIT), RawH2Connection.FRAME_SIZE_ERROR);
        });
  }

  @Test
  void aSettingsFloodEndsTheConnection() {
    badConnectionBesideALoad(
        "ENHANCE_YOUR_CALM",
        c -> {
          c.handshake(WAIT);
          // Up to a million SETTINGS without reading one ACK: the ACKs queue up in Baton until its
          // limit of queued control frames ends the connection (CVE-2019-9515).
          c.flood(RawH2Connection.frame(RawH2Connection.SETTINGS, 0, 0, new byte[0]), 1_000_000);
          List<Frame> read = c.readToEnd(WAIT);
          // The GOAWAY may be lost: closing a socket with unread input sends a TCP reset, and the
          // kernel drops what this side had not read yet. If it arrives, it says ENHANCE_YOUR_CALM.
          read.stream()
              .filter(Frame::isGoAway)
              .forEach(
                  g ->
                      assertThat(g.errorCode())
                          .as("GOAWAY after a SETTINGS flood")
                          .isEqualTo(RawH2Connection.ENHANCE_YOUR_CALM));
        },
        4096);
  }

  @Test
  void headersOverTheSizeLimitGetGoaway() {
    badConnectionBesideALoad(
        "PROTOCOL_ERROR",
        c -> {
          c.handshake(WAIT);
          Http2Headers headers =
              new DefaultHttp2Headers()
                  .method("GET")
                  .scheme("http")
                  .authority("localhost")
                  .path("/load/big");
          // 64 KiB of headers, far over any sane limit, in HEADERS + CONTINUATION frames of 16 KiB.
          for (int i = 0; i < 64; i++) {
            headers.add("x-big-" + i, "a".repeat(1000));
          }
          c.sendHeadersSplit(1, headers, true, 16_000);
          assertGoAway(c.readToEnd(WAIT), RawH2Connection.PROTOCOL_ERROR);
        });
    assertThat(upstream.idCounts())
        .as("the oversized request never reached the upstream")
        .doesNotContainKey("big");
  }

  private void badConnectionBesideALoad(String errorName, Consumer<RawH2Connection> badInput) {
    badConnectionBesideALoad(errorName, badInput, 0);
  }

  private void badConnectionBesideALoad(
      String errorName, Consumer<RawH2Connection> badInput, int receiveBuffer) {
    H2LoadClient load =
        H2LoadClient.builder(web.getHostString(), web.getPort())
            .connections(4)
            .streams(4)
            .maxDuration(Duration.ofSeconds(60))
            .build()
            .start();
    int port;
    try (RawH2Connection bad = RawH2Connection.connect(web, receiveBuffer)) {
      port = bad.localPort();
      Awaitility.await().atMost(WAIT).until(() -> load.result().completed() > 100);
      badInput.accept(bad);
      long before = load.result().completed();
      Awaitility.await().atMost(WAIT).until(() -> load.result().completed() > before + 100);
    } finally {
      load.stop();
    }
    H2LoadResult result;
    try {
      result = load.awaitResult(WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    assertThat(result.failed())
        .as("the well-behaved load beside the bad connection: %s", result)
        .isZero();
    assertThat(result.refused()).as("nothing refused either: %s", result).isZero();
    assertThat(result.goawaysReceived()).as("no GOAWAY for the other connections").isZero();
    // The log line names the peer (its port) and the error: an operator can find the culprit.
    Awaitility.await()
        .atMost(WAIT)
        .until(
            () ->
                generations
                    .active()
                    .stderrText()
                    .lines()
                    .anyMatch(l -> l.contains(":" + port) && l.contains(errorName)));
    assertThat(generations.active().isAlive()).isTrue();
  }

  private static void assertGoAway(List<Frame> read, long errorCode) {
    Frame goaway =
        read.stream()
            .filter(Frame::isGoAway)
            .reduce((a, b) -> b)
            .orElseThrow(
                () ->
                    new AssertionError(
                        "no GOAWAY before the end of the connection; read "
                            + RawH2Connection.summary(read)));
    assertThat(goaway.errorCode())
        .as("GOAWAY error code; read %s", RawH2Connection.summary(read))
        .isEqualTo(errorCode);
  }
}
