package io.baton.handoff.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Untrusted bytes on a control socket ({@code reconfig.sock}, {@code listen.sock}, {@code
 * conn.sock} all read through {@link ControlChannel}), over a real Unix socket. The peer writes the
 * input (in one go, or in two pieces with the reader polling in between), then closes. Whatever the
 * bytes, the reader sees exactly what a plain reading of the stream says: each whole frame's
 * Envelope, a {@link ControlProtocolException} for a body that is not an Envelope or a length out
 * of bounds (which ends the stream), and a {@link PeerClosedException} at EOF; never any other
 * exception, never a lost or invented frame.
 *
 * <p>Seeds: {@code ControlChannelFuzzTestInputs/<method>/} in this package's test resources; {@code
 * bench/fuzz.sh control-channel} and {@code control-channel-paused} fuzz them.
 */
class ControlChannelFuzzTest {

  /** The reader's wait between pieces: the bytes of a piece are already queued, or not coming. */
  private static final Duration POLL = Duration.ofMillis(1);

  private static final Duration WAIT = Duration.ofSeconds(5);

  private static Path dir;
  private static UnixServer server;

  @BeforeAll
  static void bind() throws Exception {
    dir = Files.createTempDirectory("baton-fuzz-control");
    server = UnixServer.bind(dir.resolve("control.sock"));
  }

  @AfterAll
  static void unbind() throws IOException {
    server.close();
    Files.deleteIfExists(dir.resolve("control.sock"));
    Files.deleteIfExists(dir);
  }

  @FuzzTest(maxDuration = "10m")
  void everyFrameIsReadAsSentOrRefusedWithATypedError(byte[] stream) throws Exception {
    readAndCompare(stream, -1);
  }

  /**
   * The same, with the reader polling once in the middle: a frame cut by a read timeout is resumed
   * where it stopped. Byte 0 is where the stream is cut. A poll that finds no whole frame waits
   * UnixConnection's 100 ms timeout grain, so this target runs about 20 inputs a second: it is
   * apart from the one above, which runs thousands.
   */
  @FuzzTest(maxDuration = "10m")
  void aFrameCutByAReadTimeoutIsResumedWhereItStopped(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    byte[] stream = Arrays.copyOfRange(input, 1, input.length);
    readAndCompare(stream, Math.min(stream.length, input[0] & 0xff));
  }

  /**
   * @param pauseAt where the reader polls with a short timeout in the middle; -1: it does not
   */
  private static void readAndCompare(byte[] stream, int pauseAt) throws Exception {
    List<String> expected = PlainReading.of(stream);
    List<String> seen = new ArrayList<>();
    int split = Math.max(pauseAt, 0);

    try (UnixConnection peer = UnixConnection.connect(server.path(), WAIT);
        ControlChannel channel = new ControlChannel(server.accept(WAIT))) {
      boolean ended = false;
      if (pauseAt >= 0) {
        peer.write(Arrays.copyOfRange(stream, 0, split));
        ended = readAll(channel, POLL, seen);
      }
      if (!ended) {
        peer.write(Arrays.copyOfRange(stream, split, stream.length));
        peer.close();
        assertThat(readAll(channel, WAIT, seen))
            .as("the reader ends at EOF at the latest")
            .isTrue();
      }
    }
    assertThat(seen).as("what the reader saw of %s", hex(stream)).isEqualTo(expected);
  }

  /** Receives until a wait of {@code timeout} ends without a frame; true once the stream ended. */
  private static boolean readAll(ControlChannel channel, Duration timeout, List<String> seen)
      throws Exception {
    while (true) {
      try {
        ReceivedFrame frame = channel.receive(timeout);
        assertThat(frame.fds()).isEmpty();
        seen.add(PlainReading.frame(frame.envelope()));
      } catch (OsException e) {
        assertThat(e.isTimeout()).as("only a timeout between pieces: %s", e).isTrue();
        return false;
      } catch (PeerClosedException e) {
        assertThat(e.getMessage()).contains(channel.path().toString());
        seen.add(
            e.getMessage().startsWith("peer closed the connection")
                ? PlainReading.EOF
                : PlainReading.EOF_IN_FRAME);
        return true;
      } catch (ControlProtocolException e) {
        assertThat(e.reason()).isEqualTo(RefusalReason.MALFORMED_MESSAGE);
        assertThat(e.getMessage()).as("names the socket").contains(channel.path().toString());
        if (e.getMessage().startsWith("frame length: ")) {
          assertThat(e.getMessage())
              .contains("(expected: <= " + ControlChannel.MAX_FRAME_BYTES + ")");
          seen.add(PlainReading.BAD_LENGTH);
          return true; // the stream is out of step: nothing after it means anything
        }
        assertThat(e.getMessage()).contains("is not an Envelope");
        seen.add(PlainReading.NOT_AN_ENVELOPE);
      }
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(bytes.length, 64); i++) {
      s.append(String.format("%02x", bytes[i]));
    }
    return bytes.length > 64 ? s + "... (" + bytes.length + " bytes)" : s.toString();
  }

  /** The oracle: the stream read as the framing contract (ControlChannel's class comment) says. */
  private static final class PlainReading {
    static final String EOF = "EOF";
    static final String EOF_IN_FRAME = "EOF in a frame";
    static final String BAD_LENGTH = "bad length";
    static final String NOT_AN_ENVELOPE = "not an Envelope";

    static List<String> of(byte[] stream) {
      List<String> reading = new ArrayList<>();
      ByteBuffer in = ByteBuffer.wrap(stream);
      while (true) {
        if (!in.hasRemaining()) {
          reading.add(EOF);
          return reading;
        }
        if (in.remaining() < 4) {
          reading.add(EOF_IN_FRAME);
          return reading;
        }
        int length = in.getInt();
        if (length < 0 || length > ControlChannel.MAX_FRAME_BYTES) {
          reading.add(BAD_LENGTH);
          return reading;
        }
        if (in.remaining() < length) {
          reading.add(EOF_IN_FRAME);
          return reading;
        }
        byte[] body = new byte[length];
        in.get(body);
        try {
          reading.add(frame(Envelope.parseFrom(body)));
        } catch (InvalidProtocolBufferException e) {
          reading.add(NOT_AN_ENVELOPE);
        }
      }
    }

    static String frame(Envelope envelope) {
      return "frame " + envelope.getBodyCase() + " " + Arrays.toString(envelope.toByteArray());
    }
  }
}
