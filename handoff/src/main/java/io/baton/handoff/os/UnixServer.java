package io.baton.handoff.os;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
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
  private final Object inode;
  private final Path boundPath;
  private volatile Path path;

  private UnixServer(AFUNIXServerSocket socket, Path path, Object inode) {
    this.socket = socket;
    this.boundPath = path;
    this.path = path;
    this.inode = inode;
  }

  /**
   * bind(2) + listen(2) at {@code path}, which must not exist, then chmod 0600 (junixsocket creates
   * socket files 0666 minus umask; the 0700 run directory is the real guard, this is the second).
   */
  public static UnixServer bind(Path path) throws OsException {
    Objects.requireNonNull(path, "path");
    AFUNIXServerSocket socket = null;
    try {
      socket = AFUNIXServerSocket.newInstance();
      socket.setDeleteOnClose(false);
      socket.bind(AFUNIXSocketAddress.of(path), 16);
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
      Object inode = Files.getAttribute(path, "unix:ino");
      return new UnixServer(socket, path, inode);
    } catch (IOException | RuntimeException e) {
      UnixSockets.closeQuietly(socket);
      throw UnixSockets.failure("bind", path, -1, e, false);
    }
  }

  /** The path this socket is published at ({@link #publishAs}), else the one it was bound at. */
  public Path path() {
    return path;
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
      return UnixConnection.accepted(accepted, path);
    } catch (IOException | RuntimeException e) {
      throw UnixSockets.failure("accept", path, -1, e, socket.isClosed());
    }
  }

  /** Waits for one connection until one comes or this server is closed. */
  public UnixConnection accept() throws OsException {
    try {
      socket.setSoTimeout(0);
      AFUNIXSocket accepted = socket.accept();
      return UnixConnection.accepted(accepted, path);
    } catch (IOException | RuntimeException e) {
      throw UnixSockets.failure("accept", path, -1, e, socket.isClosed());
    }
  }

  /**
   * Makes this socket reachable at {@code target} too, replacing whatever is there in one atomic
   * step: a client connecting to {@code target} reaches either the previous socket or this one,
   * never nothing.
   *
   * <p>Not a plain rename of the bound file: junixsocket's accept(2) wrapper checks that the path
   * it bound still names the same inode, and closes the server socket if not ("socket file
   * deleted"). So the bound path stays, a hard link to it is made at a temporary name, and that link
   * is renamed over {@code target} (link(2) + rename(2)).
   */
  public void publishAs(Path target) throws OsException {
    Path link = boundPath.resolveSibling(boundPath.getFileName() + ".link");
    try {
      Files.deleteIfExists(link);
      Files.createLink(link, boundPath);
      Files.move(link, target, StandardCopyOption.ATOMIC_MOVE);
      path = target;
    } catch (AtomicMoveNotSupportedException e) {
      deleteQuietly(link);
      throw UnixSockets.failure("rename " + link + " ->", target, -1, e, false);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(link);
      throw UnixSockets.failure("publish " + boundPath + " as", target, -1, e, false);
    }
  }

  /** Whether the file at {@link #path()} is still the socket this server is bound to. */
  public boolean fileIsStillOurs() {
    try {
      return inode.equals(Files.getAttribute(path, "unix:ino"));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Removes the published name if (and only if) it is still this server's socket, and the bound
   * (temporary) name, which is always ours.
   */
  public void deleteFileIfStillOurs() {
    if (fileIsStillOurs()) {
      deleteQuietly(path);
    }
    if (!boundPath.equals(path)) {
      deleteQuietly(boundPath);
    }
  }

  /**
   * Removes only the bound (temporary) name. For a process whose successor took over: the
   * published name belongs to the successor from its Ready on, and checking the inode before
   * deleting would race with the successor's rename (check, rename, delete: the successor's
   * socket gone).
   */
  public void deleteBoundFileOnly() {
    if (!boundPath.equals(path)) {
      deleteQuietly(boundPath);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // Best effort: a stale socket file is harmless, the next process sees ECONNREFUSED.
    }
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
    return "unix server " + path;
  }
}
