package io.baton.handoff.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Ready;
import io.baton.proto.handoff.v1.RefusalReason;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Framing, limits, EOF and fd passing of one control connection, over a real Unix socket. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ControlChannelTest {
  private static final Duration WAIT = Duration.ofSeconds(3);

  @TempDir Path dir;
  private UnixServer server;
  private UnixConnection client;
  private ControlChannel accepted;

  @BeforeEach
  void connect() throws Exception {
    server = UnixServer.bind(dir.resolve("c.sock"));
    client = UnixConnection.connect(dir.resolve("c.sock"), WAIT);
    accepted = new ControlChannel(server.accept(WAIT));
  }

  @AfterEach
  void close() {
    client.close();
    accepted.close();
    server.close();
  }

  @Test
  void oversizedFrameIsAMalformedMessage() throws Exception {
    client.write(ByteBuffer.allocate(4).putInt(ControlChannel.MAX_FRAME_BYTES + 1).array());

    assertThatThrownBy(() -> accepted.receive(WAIT))
        .isInstanceOfSatisfying(
            ControlProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.MALFORMED_MESSAGE))
        .hasMessageContaining("frame length: 1048577 (expected: <= 1048576)");
  }

  /**
   * A last frame sent right before closing reaches the peer, then EOF, even when the closing side
   * had bytes from the peer it never read: without {@code discardUnread} the peer's read ends in
   * ECONNRESET, not EOF (and, in the chained-drain race, before the frame was read).
   */
  @Test
  void aFrameSentJustBeforeCloseArrivesThenEofWhenUnreadBytesAreDiscarded() throws Exception {
    ControlChannel clientChannel = new ControlChannel(client);
    accepted.send(Envelope.newBuilder().setProtocolVersion(7).build()); // never read by the client
    clientChannel.send(Envelope.newBuilder().setProtocolVersion(9).build());

    clientChannel.discardUnread();
    clientChannel.close();

    ReceivedFrame last = accepted.receive(WAIT);
    assertThat(last.envelope().getProtocolVersion()).isEqualTo(9);
    assertThatThrownBy(() -> accepted.receive(WAIT)).isInstanceOf(PeerClosedException.class);
  }

  @Test
  void eofIsPeerClosedAtOnce() {
    client.close();

    assertThatThrownBy(() -> accepted.receive(Duration.ofSeconds(10)))
        .isInstanceOf(PeerClosedException.class);
  }

  @Test
  void eofInTheMiddleOfAFrameIsPeerClosed() throws Exception {
    client.write(new byte[] {0, 0, 0, 10, 1, 2});
    client.close();

    assertThatThrownBy(() -> accepted.receive(WAIT))
        .isInstanceOf(PeerClosedException.class)
        .hasMessageContaining("middle of a frame");
  }

  @Test
  void aTimeoutInTheMiddleOfAFrameResumesWhereItStopped() throws Exception {
    byte[] body = Envelope.newBuilder().setProtocolVersion(1).build().toByteArray();
    byte[] frame = ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    Duration poll = Duration.ofMillis(50);

    client.write(Arrays.copyOfRange(frame, 0, 2)); // half of the length
    assertThatThrownBy(() -> accepted.receive(poll))
        .isInstanceOfSatisfying(OsException.class, e -> assertThat(e.isTimeout()).isTrue());
    client.write(Arrays.copyOfRange(frame, 2, 5)); // the rest of it and a byte of the body
    assertThatThrownBy(() -> accepted.receive(poll))
        .isInstanceOfSatisfying(OsException.class, e -> assertThat(e.isTimeout()).isTrue());
    client.write(Arrays.copyOfRange(frame, 5, frame.length));

    assertThat(accepted.receive(WAIT).envelope().getProtocolVersion()).isEqualTo(1);
  }

  @Test
  void silenceIsATimeoutNamingTheSocket() {
    assertThatThrownBy(() -> accepted.receive(Duration.ofMillis(100)))
        .isInstanceOfSatisfying(OsException.class, e -> assertThat(e.isTimeout()).isTrue())
        .hasMessageContaining(dir.resolve("c.sock").toString());
  }

  @Test
  void receivedFdsAreOwnCopiesThatOutliveTheConnection() throws Exception {
    Epoll.ensureAvailability();
    Socket listener = Socket.newSocketStream();
    try {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      listener.listen(8);
      new ControlChannel(client)
          .send(
              ProtocolVersion.envelope().setReady(Ready.getDefaultInstance()).build(),
              listener.intValue());

      ReceivedFrame frame = accepted.receive(WAIT);
      assertThat(frame.bodyCase()).isEqualTo(Envelope.BodyCase.READY);
      assertThat(frame.fds()).hasSize(1);
      int fd = frame.fds()[0];
      accepted.close(); // junixsocket closes the fds it received; our dup must survive
      client.close();

      Socket copy = new Socket(fd);
      assertThat(copy.localAddress())
          .as("the dup'ed fd is still the listener")
          .isEqualTo(listener.localAddress());
      Fds.close(fd);
    } finally {
      listener.close();
    }
  }
}
