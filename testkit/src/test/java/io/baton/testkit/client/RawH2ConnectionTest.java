package io.baton.testkit.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.testkit.client.RawH2Connection.Frame;
import io.baton.testkit.upstream.TestH2Upstream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link RawH2Connection} against Netty's HTTP/2 server in {@link TestH2Upstream}. */
@Timeout(30)
class RawH2ConnectionTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private final TestH2Upstream upstream = TestH2Upstream.start(0, 0);
  private final InetSocketAddress address = new InetSocketAddress("127.0.0.1", upstream.port());

  @AfterEach
  void close() {
    upstream.close();
  }

  @Test
  void aRequestGetsItsResponseFrames() {
    try (RawH2Connection c = RawH2Connection.connect(address)) {
      c.handshake(WAIT);
      c.sendGet(1, "localhost", "/load/raw-1");
      List<Frame> read = c.readUntil(f -> f.streamId() == 1 && f.endStream(), WAIT);
      Frame headers =
          read.stream().filter(f -> f.type() == RawH2Connection.HEADERS).findFirst().orElseThrow();
      assertThat(headers.headers().status().toString()).isEqualTo("200");
      Frame data = read.get(read.size() - 1);
      assertThat(new String(data.payload(), StandardCharsets.US_ASCII)).isEqualTo("ok raw-1\n");
      assertThat(upstream.idCounts()).containsEntry("raw-1", 1);
    }
  }

  @Test
  void aBadPrefaceEndsWithGoawayProtocolError() {
    try (RawH2Connection c = RawH2Connection.connect(address)) {
      c.sendRaw("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      List<Frame> read = c.readToEnd(WAIT);
      assertThat(read)
          .anySatisfy(
              f -> {
                assertThat(f.isGoAway()).isTrue();
                assertThat(f.errorCode()).isEqualTo(RawH2Connection.PROTOCOL_ERROR);
              });
    }
  }

  @Test
  void goawayFramesAreParsed() {
    try (RawH2Connection c = RawH2Connection.connect(address)) {
      c.handshake(WAIT);
      c.sendGet(1, "localhost", "/load/raw-2");
      c.readUntil(f -> f.streamId() == 1 && f.endStream(), WAIT);
      upstream.goAwayAll();
      Frame goaway = last(c.readUntil(Frame::isGoAway, WAIT));
      assertThat(goaway.lastStreamId()).isEqualTo(1);
      assertThat(goaway.errorCode()).isEqualTo(RawH2Connection.NO_ERROR);
    }
  }

  private static Frame last(List<Frame> frames) {
    return frames.get(frames.size() - 1);
  }
}
