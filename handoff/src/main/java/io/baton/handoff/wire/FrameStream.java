package io.baton.handoff.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Frames read with plain blocking read(2) from an fd of its own (a dup of a control socket's), for
 * a reader that must outlive the socket's junixsocket object: junixsocket closes its socket when a
 * write on it fails with EPIPE, which would drop frames still unread. Ancillary fds are not
 * expected here (read(2) discards them; the kernel closes them). Ends at EOF, which the peer's
 * close or a shutdown(2) of the socket brings.
 */
public final class FrameStream implements AutoCloseable {

  private final int fd;
  private final Path path;
  private final DataInputStream in;

  /**
   * @param fd owned by this stream from now on
   * @param path the socket's path, for messages
   */
  public FrameStream(int fd, Path path) throws OsException {
    this.fd = fd;
    this.path = path;
    this.in = new DataInputStream(new FileInputStream(Fds.wrap(fd)));
  }

  /**
   * The next frame, waiting as long as it takes.
   *
   * @throws PeerClosedException at EOF, including EOF in the middle of a frame
   * @throws ControlProtocolException for an oversized length or bytes that are not an Envelope
   */
  public Envelope next() throws OsException, PeerClosedException, ControlProtocolException {
    try {
      int length = in.readInt();
      if (length < 0 || length > ControlChannel.MAX_FRAME_BYTES) {
        throw new ControlProtocolException(
            RefusalReason.MALFORMED_MESSAGE,
            "frame length: "
                + Integer.toUnsignedString(length)
                + " (expected: <= "
                + ControlChannel.MAX_FRAME_BYTES
                + ") on "
                + path);
      }
      byte[] body = new byte[length];
      in.readFully(body);
      return Envelope.parseFrom(body);
    } catch (EOFException e) {
      throw new PeerClosedException(path + ": EOF");
    } catch (InvalidProtocolBufferException e) {
      throw new ControlProtocolException(
          RefusalReason.MALFORMED_MESSAGE, "not an Envelope on " + path + ": " + e.getMessage());
    } catch (IOException e) {
      throw new OsException(OsException.Kind.OTHER, "read", path, fd, e);
    }
  }

  @Override
  public void close() {
    Fds.closeQuietly(fd);
  }
}
