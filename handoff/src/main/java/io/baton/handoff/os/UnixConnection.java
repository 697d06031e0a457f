package io.baton.handoff.os;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketCredentials;

/**
 * One connected Unix stream socket: blocking reads with a timeout, writes that may carry fds
 * (SCM_RIGHTS), and the peer's credentials.
 *
 * <p>Received fds: junixsocket closes the fds it received when its socket closes, so every fd is
 * dup'ed the moment it arrives; {@link #takeReceivedFds()} hands the copies to the caller, who owns
 * them from then on.
 *
 * <p>One thread may read while another writes; writes are serialised here.
 */
public final class UnixConnection implements AutoCloseable {

  private final AFUNIXSocket socket;
  private final Path path;
  private final InputStream in;
  private static final int READ_TIMEOUT_GRAIN_MILLIS = 100;

  /** What SO_RCVTIMEO is set to now; -1 before the first read. */
  private int readTimeoutMillis = -1;

  private final OutputStream out;
  private final Object writeLock = new Object();
  private final List<Integer> receivedFds = new ArrayList<>();
  private PeerCredentials peer;

  private UnixConnection(AFUNIXSocket socket, Path path) throws IOException {
    this.socket = socket;
    this.path = path;
    // Must be set before the first read that may carry fds, or the kernel drops them (MSG_CTRUNC).
    socket.setAncillaryReceiveBufferSize(UnixSockets.ANCILLARY_BUFFER_BYTES);
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  static UnixConnection accepted(AFUNIXSocket socket, Path path) throws IOException {
    try {
      return new UnixConnection(socket, path);
    } catch (IOException | RuntimeException e) {
      UnixSockets.closeQuietly(socket);
      throw e;
    }
  }

  /**
   * connect(2) to the socket at {@code path}, waiting at most {@code timeout}.
   *
   * @throws OsException {@link OsException.Kind#NOT_FOUND} if there is no such file, {@link
   *     OsException.Kind#CONNECTION_REFUSED} if nobody listens on it (a stale file)
   */
  public static UnixConnection connect(Path path, Duration timeout) throws OsException {
    Objects.requireNonNull(path, "path");
    if (!Files.exists(path)) {
      throw new OsException(
          OsException.Kind.NOT_FOUND,
          "connect",
          path,
          -1,
          new NoSuchFileException(path.toString()));
    }
    AFUNIXSocket socket = null;
    try {
      socket = AFUNIXSocket.newInstance();
      socket.connect(AFUNIXSocketAddress.of(path), UnixSockets.timeoutMillis(timeout));
      return new UnixConnection(socket, path);
    } catch (IOException | RuntimeException e) {
      UnixSockets.closeQuietly(socket);
      throw UnixSockets.failure("connect", path, -1, e, false);
    }
  }

  /** The socket path this connection was made on (the server's path). */
  public Path path() {
    return path;
  }

  /** SO_PEERCRED, read once. */
  public synchronized PeerCredentials peer() throws OsException {
    if (peer == null) {
      try {
        AFUNIXSocketCredentials credentials = socket.getPeerCredentials();
        long pid = credentials.getPid();
        peer = new PeerCredentials(credentials.getUid(), pid < 0 ? 0 : pid);
      } catch (IOException | RuntimeException e) {
        throw UnixSockets.failure(
            "getsockopt(SO_PEERCRED)", path, fdOrMinusOne(), e, socket.isClosed());
      }
    }
    return peer;
  }

  /**
   * Writes {@code bytes} in one write call, with {@code fds} as SCM_RIGHTS ancillary data on its
   * first byte. The fds stay owned by the caller: the kernel gives the peer its own copies.
   */
  public void write(byte[] bytes, int... fds) throws OsException {
    synchronized (writeLock) {
      int fd = fds.length == 0 ? -1 : fds[0];
      try {
        if (fds.length > UnixSockets.MAX_FDS_PER_FRAME) {
          throw new IOException(
              "fds: " + fds.length + " (expected: <= " + UnixSockets.MAX_FDS_PER_FRAME + ")");
        }
        if (fds.length > 0) {
          FileDescriptor[] descriptors = new FileDescriptor[fds.length];
          for (int i = 0; i < fds.length; i++) {
            descriptors[i] = Fds.wrap(fds[i]);
          }
          socket.setOutboundFileDescriptors(descriptors);
        }
        out.write(bytes);
        out.flush();
      } catch (OsException e) {
        throw e;
      } catch (IOException | RuntimeException e) {
        throw UnixSockets.failure("write", path, fd, e, socket.isClosed());
      }
    }
  }

  /**
   * Reads up to {@code length} bytes, waiting at most {@code timeout} for the first.
   *
   * @return the number of bytes read, or -1 at EOF
   */
  public int read(byte[] buffer, int offset, int length, Duration timeout) throws OsException {
    try {
      setReadTimeout(timeout);
      int n = in.read(buffer, offset, length);
      collectReceivedFds();
      return n;
    } catch (OsException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw UnixSockets.failure("read", path, fdOrMinusOne(), e, socket.isClosed());
    }
  }

  /**
   * SO_RCVTIMEO is a system call: set it only when the wanted timeout, rounded up to a tenth of a
   * second, changes. A stream of frames read back to back (10,000 moved connections) then pays it
   * once, and no read waits more than 100 ms longer than asked.
   */
  private void setReadTimeout(Duration timeout) throws IOException {
    int millis = UnixSockets.timeoutMillis(timeout);
    int rounded =
        millis >= Integer.MAX_VALUE - READ_TIMEOUT_GRAIN_MILLIS
            ? millis
            : ((millis + READ_TIMEOUT_GRAIN_MILLIS - 1) / READ_TIMEOUT_GRAIN_MILLIS)
                * READ_TIMEOUT_GRAIN_MILLIS;
    if (rounded != readTimeoutMillis) {
      socket.setSoTimeout(rounded);
      readTimeoutMillis = rounded;
    }
  }

  private void collectReceivedFds() throws IOException, OsException {
    FileDescriptor[] received = socket.getReceivedFileDescriptors();
    if (received == null) {
      return;
    }
    synchronized (receivedFds) {
      for (FileDescriptor fd : received) {
        // junixsocket would close `fd` only when this socket closes: keep a dup, which is ours,
        // and close its copy now (through the descriptor, so junixsocket forgets it too). A
        // long-lived socket that receives 10,000 connections must not hold each one twice.
        receivedFds.add(Fds.dup(fd));
        Fds.closeDescriptor(fd);
      }
    }
  }

  /** The fds received so far (dup'ed, owned by the caller from now on), in arrival order. */
  public int[] takeReceivedFds() {
    synchronized (receivedFds) {
      int[] fds = receivedFds.stream().mapToInt(Integer::intValue).toArray();
      receivedFds.clear();
      return fds;
    }
  }

  public boolean isClosed() {
    return socket.isClosed();
  }

  /**
   * A second fd for this socket (dup(2)), owned by the caller, for writes that must never close the
   * socket under a reader: junixsocket closes its socket when a write fails with EPIPE, and a
   * closed socket drops every frame (and fd) still queued in it.
   */
  public int duplicateFd() throws OsException {
    try {
      return Fds.dup(socket.getFileDescriptor());
    } catch (IOException e) {
      throw new OsException(OsException.Kind.OTHER, "dup", path, -1, e);
    }
  }

  /**
   * shutdown(2) both ways: the peer sees EOF, and so does a blocked read on any fd of this socket
   * (a dup's too, which close(2) of this one would leave open).
   */
  public void shutdown() {
    try {
      socket.shutdownOutput();
      socket.shutdownInput();
    } catch (IOException | RuntimeException ignored) {
      // already closed or shut down: the peer has its EOF
    }
  }

  /** Closes the socket (the peer sees EOF) and any received fds nobody took. */
  @Override
  public void close() {
    UnixSockets.closeQuietly(socket);
    for (int fd : takeReceivedFds()) {
      Fds.closeQuietly(fd);
    }
  }

  private int fdOrMinusOne() {
    try {
      return Fds.intValue(socket.getFileDescriptor());
    } catch (IOException | OsException | RuntimeException e) {
      return -1;
    }
  }

  @Override
  public String toString() {
    return "unix connection " + path;
  }
}
