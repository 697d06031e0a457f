package io.baton.handoff.os;

import io.baton.handoff.SocketFile;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * A listening Unix stream socket bound at a path.
 *
 * <p>junixsocket deletes the socket file when a server socket closes ("delete on close", on by
 * default). That would be wrong here: after a handoff the path {@code reconfig.sock} names the
 * successor's socket (renamed over ours), and our close must not delete it. So delete-on-close is
 * off, and {@link #deleteFileIfStillOurs()} removes the file only when its inode is still the one
 * this socket was bound to.
 */
public final class UnixServer implements AutoCloseable {

  private final AFUNIXServerSocket socket;
  private final SocketFile file;

  private UnixServer(AFUNIXServerSocket socket, SocketFile file) {
    this.socket = socket;
    this.file = file;
  }

  /**
   * bind(2) + listen(2) at {@code path}, which must not exist; the file is then {@link
   * SocketFile#bound}.
   */
  public static UnixServer bind(Path path) throws OsException {
    Objects.requireNonNull(path, "path");
    AFUNIXServerSocket socket = null;
    try {
      socket = AFUNIXServerSocket.newInstance();
      socket.setDeleteOnClose(false);
      socket.bind(AFUNIXSocketAddress.of(path), 16);
      return new UnixServer(socket, SocketFile.bound(path));
    } catch (IOException | RuntimeException e) {
      UnixSockets.closeQuietly(socket);
      throw UnixSockets.failure("bind", path, -1, e, false);
    }
  }

  /** The path this socket is published at ({@link #publishAs}), else the one it was bound at. */
  public Path path() {
    return file.path();
  }

  /**
   * Waits for one connection, at most {@code timeout}.
   *
   * @throws OsException with {@link OsException.Kind#TIMEOUT} when nobody connected in time, or
   *     {@link OsException.Kind#CLOSED_LOCALLY} when this server was closed meanwhile
   */
  public UnixConnection accept(Duration timeout) throws OsException {
    try {
      socket.setSoTimeout(UnixSockets.timeoutMillis(timeout));
      AFUNIXSocket accepted = socket.accept();
      return UnixConnection.accepted(accepted, path());
    } catch (IOException | RuntimeException e) {
      throw UnixSockets.failure("accept", path(), -1, e, socket.isClosed());
    }
  }

  /** Waits for one connection until one comes or this server is closed. */
  public UnixConnection accept() throws OsException {
    try {
      socket.setSoTimeout(0);
      AFUNIXSocket accepted = socket.accept();
      return UnixConnection.accepted(accepted, path());
    } catch (IOException | RuntimeException e) {
      throw UnixSockets.failure("accept", path(), -1, e, socket.isClosed());
    }
  }

  /** Makes {@code target} name this socket (see {@link SocketFile#publishAs}). */
  public void publishAs(Path target) throws OsException {
    try {
      file.publishAs(target);
    } catch (AtomicMoveNotSupportedException e) {
      throw UnixSockets.failure("rename to", target, -1, e, false);
    } catch (IOException | RuntimeException e) {
      throw UnixSockets.failure("publish " + file.boundPath() + " as", target, -1, e, false);
    }
  }

  /** Whether the file at {@link #path()} is still the socket this server is bound to. */
  public boolean fileIsStillOurs() {
    return file.isStillOurs();
  }

  /** See {@link SocketFile#deleteIfStillOurs()}. */
  public void deleteFileIfStillOurs() {
    file.deleteIfStillOurs();
  }

  /** See {@link SocketFile#deleteBoundOnly()}. */
  public void deleteBoundFileOnly() {
    file.deleteBoundOnly();
  }

  public boolean isClosed() {
    return socket.isClosed();
  }

  /** Stops listening. Leaves the file alone (see the class comment). */
  @Override
  public void close() {
    UnixSockets.closeQuietly(socket);
  }

  @Override
  public String toString() {
    return "unix server " + path();
  }
}
