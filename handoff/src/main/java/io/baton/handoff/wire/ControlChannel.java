package io.baton.handoff.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixConnection;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One connected control socket ({@code reconfig.sock} or {@code listen.sock}) speaking framed
 * {@link Envelope}s.
 *
 * <h2>Framing</h2>
 *
 * <p>The sequence of frames, who speaks first on each socket and in which state each side waits are
 * described once, in the header of {@code handoff.proto} (proto module, {@code
 * baton/handoff/v1/handoff.proto}). Here, what this class does to keep frames and fds in step: a
 * frame is a 4-byte big-endian length, then that many bytes of one serialized {@code Envelope}, at
 * most {@link #MAX_FRAME_BYTES} (1 MiB); a longer (or negative) length is a protocol error and the
 * connection is unusable afterwards, since the stream is out of step. A frame is written with one
 * write call, so the fds it describes travel as SCM_RIGHTS ancillary data on its first byte; the
 * reader reads the length and the body exactly (never ahead into the next frame), so the fds it
 * collects while reading one frame are that frame's. EOF ({@link PeerClosedException}) means the
 * peer exited or died.
 *
 * <p><b>Versioning</b>: every envelope carries {@code protocol_version}; see {@link
 * ProtocolVersion}. The checks are the callers' (a refusal needs the whole context).
 */
public final class ControlChannel implements AutoCloseable {

  /** How long {@link #discardUnread} waits for bytes: they are already queued, or not coming. */
  private static final Duration DISCARD_WAIT = Duration.ofMillis(1);

  /** Longest frame body accepted or sent. */
  public static final int MAX_FRAME_BYTES = 1 << 20;

  private final UnixConnection connection;

  /** Not null while a frame has been read in part (a receive timed out in its middle). */
  private PartialFrame partial;

  public ControlChannel(UnixConnection connection) {
    this.connection = connection;
  }

  public Path path() {
    return connection.path();
  }

  public PeerCredentials peer() throws OsException {
    return connection.peer();
  }

  /** Sends one frame; {@code fds} travel with its first byte and stay owned by the caller. */
  public void send(Envelope envelope, int... fds) throws OsException, ControlProtocolException {
    connection.write(frame(envelope), fds);
  }

  /** One frame as it goes on the wire: its length, then the envelope. */
  public byte[] frame(Envelope envelope) throws ControlProtocolException {
    byte[] body = envelope.toByteArray();
    if (body.length > MAX_FRAME_BYTES) {
      throw new ControlProtocolException(
          RefusalReason.MALFORMED_MESSAGE,
          "frame: " + body.length + " bytes (expected: <= " + MAX_FRAME_BYTES + ") on " + path());
    }
    ByteBuffer frame = ByteBuffer.allocate(4 + body.length);
    frame.putInt(body.length).put(body);
    return frame.array();
  }

  /** shutdown(2) both ways ({@link UnixConnection#shutdown}). */
  public void shutdown() {
    connection.shutdown();
  }

  /** A second fd for this socket, owned by the caller ({@link UnixConnection#duplicateFd}). */
  public int duplicateFd() throws OsException {
    return connection.duplicateFd();
  }

  /**
   * Receives one frame, waiting at most {@code timeout} in all.
   *
   * @throws PeerClosedException at EOF, including EOF in the middle of a frame
   * @throws ControlProtocolException for an oversized length or bytes that are not an Envelope
   * @throws OsException with {@link OsException.Kind#TIMEOUT} when the frame did not arrive in time
   */
  public ReceivedFrame receive(Duration timeout)
      throws OsException, PeerClosedException, ControlProtocolException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (partial == null) {
      partial = new PartialFrame();
    }
    if (partial.body == null) {
      partial.headerRead =
          readInto(partial.header, partial.headerRead, deadline, partial.headerRead == 0);
      int length = ByteBuffer.wrap(partial.header).getInt();
      if (length < 0 || length > MAX_FRAME_BYTES) {
        partial = null;
        closeFds(connection.takeReceivedFds());
        throw new ControlProtocolException(
            RefusalReason.MALFORMED_MESSAGE,
            "frame length: "
                + Integer.toUnsignedString(length)
                + " (expected: <= "
                + MAX_FRAME_BYTES
                + ") on "
                + path());
      }
      partial.body = new byte[length];
    }
    partial.bodyRead = readInto(partial.body, partial.bodyRead, deadline, false);
    byte[] body = partial.body;
    partial = null;
    int[] fds = connection.takeReceivedFds();
    try {
      return new ReceivedFrame(Envelope.parseFrom(body), fds);
    } catch (InvalidProtocolBufferException e) {
      closeFds(fds);
      throw new ControlProtocolException(
          RefusalReason.MALFORMED_MESSAGE,
          "frame of "
              + body.length
              + " bytes is not an Envelope on "
              + path()
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Reads into {@code buffer} from {@code offset} until it is full; returns how far it got. A
   * timeout keeps what was read in {@link #partial}, so the next {@link #receive} goes on from the
   * same byte: a caller that polls with short timeouts (a held handoff does) must never lose the
   * start of a frame and read the middle of one as a length.
   */
  private int readInto(byte[] buffer, int offset, long deadline, boolean atFrameStart)
      throws OsException, PeerClosedException {
    while (offset < buffer.length) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        recordProgress(buffer, offset);
        throw new OsException(OsException.Kind.TIMEOUT, "read", path(), -1, null);
      }
      int n;
      try {
        n = connection.read(buffer, offset, buffer.length - offset, Duration.ofNanos(remaining));
      } catch (OsException e) {
        recordProgress(buffer, offset);
        throw e;
      }
      if (n < 0) {
        partial = null;
        closeFds(connection.takeReceivedFds());
        throw new PeerClosedException(
            (atFrameStart && offset == 0
                    ? "peer closed the connection on "
                    : "peer closed in the middle of a frame on ")
                + path());
      }
      offset += n;
    }
    return offset;
  }

  private void recordProgress(byte[] buffer, int offset) {
    if (buffer == partial.header) {
      partial.headerRead = offset;
    } else {
      partial.bodyRead = offset;
    }
  }

  /** The frame being received when a read timed out: its length header, then its body. */
  private static final class PartialFrame {
    final byte[] header = new byte[4];
    int headerRead;
    byte[] body;
    int bodyRead;
  }

  private static void closeFds(int[] fds) {
    for (int fd : fds) {
      Fds.closeQuietly(fd);
    }
  }

  public boolean isClosed() {
    return connection.isClosed();
  }

  /**
   * Reads and drops, without waiting, what the peer sent and nobody read yet. Call it right before
   * {@link #close} after a last frame that must arrive: a Unix stream socket closed with unread
   * data makes the peer's next read fail with ECONNRESET, and the peer may then never read the
   * frames still queued for it (HandedOn was lost 2 times in 60 when the active process closed its
   * link to its draining predecessor at once).
   */
  public void discardUnread() {
    byte[] sink = new byte[8192];
    try {
      for (int reads = 0; reads < 64; reads++) {
        if (connection.read(sink, 0, sink.length, DISCARD_WAIT) <= 0) {
          return;
        }
      }
    } catch (OsException e) {
      // Nothing more to read (timeout), or the peer is gone: nothing left to drop either way.
    }
  }

  @Override
  public void close() {
    connection.close();
  }

  @Override
  public String toString() {
    return "control channel " + path();
  }
}
