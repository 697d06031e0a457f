package io.baton.sidecar.http2;

import static io.baton.testkit.client.RawH2Connection.DATA;
import static io.baton.testkit.client.RawH2Connection.GOAWAY;
import static io.baton.testkit.client.RawH2Connection.HEADERS;
import static io.baton.testkit.client.RawH2Connection.PING;
import static io.baton.testkit.client.RawH2Connection.PREFACE;
import static io.baton.testkit.client.RawH2Connection.SETTINGS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.baton.sidecar.config.DrainConfig;
import io.baton.sidecar.config.UpstreamProtocol;
import io.baton.sidecar.h2c.Http2Limits;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.testkit.client.RawH2Connection;
import io.netty.handler.codec.http2.Http2Error;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A client that breaks HTTP/2 loses its own connection, with the GOAWAY error code Netty's codec
 * picks and a log line naming it; the other clients of the listener go on. (The same bad input
 * through the packaged jar: it-tests' {@code Http2BadInputTest}.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2FrontendBadInputTest {

  private static final Duration READ = Duration.ofSeconds(10);

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger meterLog = (Logger) LoggerFactory.getLogger(Http2FrameMeter.class);
  private H2cEchoUpstream upstream;
  private ProxyUnderTest proxy;
  private H2TestClient bystander;

  @BeforeEach
  void start() throws Exception {
    logs.start();
    meterLog.addAppender(logs);
    upstream = new H2cEchoUpstream(100);
    proxy =
        ProxyUnderTest.http(
            Duration.ofSeconds(10),
            UpstreamProtocol.H2C,
            DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY,
            upstream.endpoint());
    bystander = new H2TestClient(proxy.address());
    assertThat(bystander.get("/load", null).get(10, TimeUnit.SECONDS).status()).isEqualTo("200");
  }

  @AfterEach
  void stop() {
    meterLog.detachAppender(logs);
    bystander.close();
    proxy.close();
    upstream.close();
  }

  /** The GOAWAY the server ended the connection with, after which it closed; null if none came. */
  private static RawH2Connection.Frame goawayThenEof(RawH2Connection raw) {
    RawH2Connection.Frame goaway = raw.readUntilType(GOAWAY, READ);
    assertThat(raw.closedByPeer(READ))
        .as("the server closes the connection after its GOAWAY")
        .isTrue();
    return goaway;
  }

  private void assertLoggedWithPeer(String errorName) {
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(logs.list)
                    .anySatisfy(
                        e ->
                            assertThat(e.getFormattedMessage())
                                .contains("GOAWAY(" + errorName)
                                .contains("/127.0.0.1:")));
  }

  private void assertBystanderUnaffected() throws Exception {
    assertThat(bystander.get("/load", null).get(10, TimeUnit.SECONDS).status())
        .as("another client's connection")
        .isEqualTo("200");
  }

  @Test
  void aFrameThatBreaksTheProtocolEndsTheConnectionWithProtocolError() throws Exception {
    try (RawH2Connection raw = RawH2Connection.connect(proxy.address())) {
      raw.handshake(READ);
      raw.sendFrame(DATA, 0, 0, "on stream 0".getBytes(StandardCharsets.US_ASCII));
      RawH2Connection.Frame goaway = goawayThenEof(raw);
      assertThat(goaway.errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    }
    assertLoggedWithPeer("PROTOCOL_ERROR");
    assertBystanderUnaffected();
  }

  @Test
  void aCorruptPrefaceAfterPriIsAnHttp2ProtocolError() throws Exception {
    try (RawH2Connection raw = RawH2Connection.connect(proxy.address())) {
      raw.sendRaw("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      RawH2Connection.Frame goaway = goawayThenEof(raw);
      assertThat(goaway.errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    }
    assertLoggedWithPeer("PROTOCOL_ERROR");
    assertBystanderUnaffected();
  }

  @Test
  void aFirstFrameOtherThanSettingsIsAProtocolError() throws Exception {
    try (RawH2Connection raw = RawH2Connection.connect(proxy.address())) {
      raw.sendRaw(PREFACE);
      raw.sendFrame(PING, 0, 0, new byte[8]);
      assertThat(goawayThenEof(raw).errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    }
    assertBystanderUnaffected();
  }

  @Test
  void aSettingsFloodFromAClientThatReadsNothingIsEnhanceYourCalm() throws Exception {
    try (RawH2Connection raw = RawH2Connection.connect(proxy.address(), 4096)) {
      raw.handshake(READ);
      // Each SETTINGS makes the server queue an ACK; the client reads none, so they pile up in the
      // server (CVE-2019-9515) until Netty's queued-control-frame limit ends the connection.
      // Enough acks to fill the kernel's buffers on both sides of loopback (megabytes), then
      // Netty's queue of 10,000; the server may close before it read all of them.
      raw.flood(RawH2Connection.frame(SETTINGS, 0, 0, new byte[0]), 4_000_000);
      // The GOAWAY itself may be lost behind the acks the server drops as it closes; the log is
      // not.
      raw.readToEnd(READ);
    }
    assertLoggedWithPeer("ENHANCE_YOUR_CALM");
    assertBystanderUnaffected();
  }

  @Test
  void headersSlightlyOverTheListSizeLimitGet431AndTheConnectionGoesOn() throws Exception {
    try (RawH2Connection raw = RawH2Connection.connect(proxy.address())) {
      raw.handshake(READ);
      // 17 KiB decoded, ~15 KiB as HPACK (Huffman): one frame under the 16 KiB frame size.
      raw.sendHeaders(
          1,
          H2TestClient.get("/load")
              .set("x-big", "x".repeat(Http2Limits.MAX_HEADER_LIST_SIZE + 1024)),
          true);
      RawH2Connection.Frame answer = raw.readUntilType(HEADERS, READ);
      assertThat(answer.streamId()).isEqualTo(1);
      assertThat(answer.endStream()).as("a complete answer: 431 from the codec").isTrue();
      raw.sendHeaders(3, H2TestClient.get("/load"), true);
      assertThat(raw.readUntilType(HEADERS, READ).streamId())
          .as("the next stream on the same connection is served")
          .isEqualTo(3);
      assertThat(upstream.streamsReceived())
          .as("only the second stream reached the upstream")
          .isEqualTo(2);
    }
    assertBystanderUnaffected();
  }

  @Test
  void aHeadersFrameOverTheMaxFrameSizeIsAFrameSizeError() throws Exception {
    try (RawH2Connection raw = RawH2Connection.connect(proxy.address())) {
      raw.handshake(READ);
      // One HEADERS frame of ~56 KiB: above SETTINGS_MAX_FRAME_SIZE (16 KiB), whatever it holds.
      raw.sendHeaders(
          1,
          H2TestClient.get("/load").set("x-big", "x".repeat(4 * Http2Limits.MAX_HEADER_LIST_SIZE)),
          true);
      // The server closes with most of that frame unread, so the kernel may reset the connection
      // and the client lose the GOAWAY; the log line is the evidence either way.
      raw.readToEnd(READ);
    }
    assertLoggedWithPeer("FRAME_SIZE_ERROR");
    assertBystanderUnaffected();
  }
}
