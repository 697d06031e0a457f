package io.baton.sidecar.http2;

import static io.baton.testkit.client.RawH2Connection.GOAWAY;
import static io.baton.testkit.client.RawH2Connection.HEADERS;
import static io.baton.testkit.client.RawH2Connection.PING;
import static io.baton.testkit.client.RawH2Connection.RST_STREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.testkit.client.RawH2Connection;
import io.netty.handler.codec.http2.Http2Error;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The two-phase GOAWAY drain of HTTP/2 client connections (RFC 9113 §6.8), seen from the client: a
 * well-behaved one (Netty's, which acks the PING) and a raw one that skips the ack and ignores the
 * GOAWAYs.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2DrainTest {

  private static final int MAX_STREAM_ID = Integer.MAX_VALUE;
  private static final Duration READ = Duration.ofSeconds(10);

  private static ProxyUnderTest proxy(H2cEchoUpstream upstream, Duration goawayDelay)
      throws Exception {
    return ProxyUnderTest.http(
        Duration.ofSeconds(10), UpstreamProtocol.H2C, goawayDelay, upstream.endpoint());
  }

  @Test
  void goawayMaxThenPingThenFinalGoawayAndTheStreamInFlightCompletes() throws Exception {
    // A long delay: the final GOAWAY can only come from the PING ack.
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(upstream, Duration.ofMinutes(5));
        H2TestClient client = new H2TestClient(proxy.address())) {
      CompletableFuture<H2TestClient.Response> held = client.get("/hold", null);
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.heldStreams() == 1);

      proxy.startDrain();

      assertThat(client.connectionFrames.poll(10, TimeUnit.SECONDS))
          .as("phase one: no new streams, all on the wire accepted")
          .isEqualTo("GOAWAY " + MAX_STREAM_ID + " 0");
      assertThat(client.connectionFrames.poll(10, TimeUnit.SECONDS)).isEqualTo("PING");
      String last = client.connectionFrames.poll(10, TimeUnit.SECONDS);
      assertThat(last)
          .as("phase two, after the PING ack: the real last stream id")
          .matches("GOAWAY [1-9][0-9]* 0");
      assertThat(client.channel().isActive())
          .as("a stream is in flight: the connection stays")
          .isTrue();

      upstream.releaseHeld();
      assertThat(held.get(10, TimeUnit.SECONDS).status())
          .as("an accepted stream completes; Baton never resets it")
          .isEqualTo("200");
      assertThat(client.awaitClosed(10)).as("closed when its last stream ended").isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 0);
      assertThat(proxy.metrics.scrape())
          .contains("baton_http2_goaway_sent_total{listener=\"web\",phase=\"first\"} 1.0")
          .contains("baton_http2_goaway_sent_total{listener=\"web\",phase=\"final\"} 1.0")
          .contains("baton_http2_drain_streams_completed_total{listener=\"web\"} 1.0");
    }
  }

  @Test
  void aClientThatIgnoresGoawaySeesOnlyRefusedStreamsAboveTheLastStreamId() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(upstream, Duration.ofMillis(200));
        RawH2Connection raw = RawH2Connection.connect(proxy.address()).answerPings(false)) {
      raw.handshake(READ);
      raw.sendHeaders(1, H2TestClient.get("/hold"), true);
      await().atMost(Duration.ofSeconds(10)).until(() -> upstream.heldStreams() == 1);

      proxy.startDrain();

      RawH2Connection.Frame first = raw.readUntilType(GOAWAY, READ);
      assertThat(first.lastStreamId()).isEqualTo(MAX_STREAM_ID);
      assertThat(first.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
      assertThat(raw.readUntilType(PING, READ))
          .as("the PING that would end phase one early; this client never acks it")
          .isNotNull();
      RawH2Connection.Frame last = raw.readUntilType(GOAWAY, READ);
      assertThat(last.lastStreamId())
          .as("after drain.http2GoawayDelay: the last stream it opened")
          .isEqualTo(1);

      raw.sendHeaders(3, H2TestClient.get("/load"), true);
      RawH2Connection.Frame refused = raw.readUntilType(RST_STREAM, READ);
      assertThat(refused.streamId()).isEqualTo(3);
      assertThat(refused.errorCode())
          .as("above the last stream id: never processed, safe to retry")
          .isEqualTo(Http2Error.REFUSED_STREAM.code());
      assertThat(upstream.streamsReceived())
          .as("the refused stream never reached the upstream")
          .isEqualTo(1);

      upstream.releaseHeld();
      RawH2Connection.Frame response = raw.readUntilType(HEADERS, READ);
      assertThat(response.streamId()).isEqualTo(1);
      // Fails (EOF or deadline) unless stream 1 ends normally.
      raw.readUntil(RawH2Connection.Frame::endStream, READ);
      assertThat(raw.closedByPeer(READ)).as("the connection closes after its last stream").isTrue();
      assertThat(proxy.metrics.scrape())
          .contains("baton_http2_streams_refused_total{listener=\"web\"} 1.0");
    }
  }

  @Test
  void anIdleConnectionGetsBothGoawaysAndCloses() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(upstream, Duration.ofMinutes(5));
        H2TestClient client = new H2TestClient(proxy.address())) {
      assertThat(client.get("/load", null).get(10, TimeUnit.SECONDS).status()).isEqualTo("200");

      proxy.startDrain();

      assertThat(client.connectionFrames.poll(10, TimeUnit.SECONDS))
          .isEqualTo("GOAWAY " + MAX_STREAM_ID + " 0");
      assertThat(client.connectionFrames.poll(10, TimeUnit.SECONDS)).isEqualTo("PING");
      assertThat(client.connectionFrames.poll(10, TimeUnit.SECONDS))
          .matches("GOAWAY [1-9][0-9]* 0");
      assertThat(client.awaitClosed(10)).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 0);
    }
  }

  @Test
  void aConnectionThatArrivesDuringTheDrainIsDrainedAtOnce() throws Exception {
    try (H2cEchoUpstream upstream = new H2cEchoUpstream(100);
        ProxyUnderTest proxy = proxy(upstream, Duration.ofMillis(200))) {
      proxy.startDrain();
      try (RawH2Connection raw = RawH2Connection.connect(proxy.address())) {
        // The preface only: what the server sends first (SETTINGS, then both GOAWAYs) is read
        // below.
        raw.sendRaw(RawH2Connection.PREFACE);
        raw.sendSettings(Map.of());
        assertThat(raw.readUntilType(GOAWAY, READ).lastStreamId()).isEqualTo(MAX_STREAM_ID);
        assertThat(raw.readUntilType(GOAWAY, READ).lastStreamId()).isZero();
        assertThat(raw.closedByPeer(READ)).isTrue();
      }
    }
  }
}
