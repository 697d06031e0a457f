package io.baton.handoff;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The file of a listening Unix socket that is handed from process to process under one name ({@code
 * reconfig.sock}, {@code admin.sock}): bound under a name of its own, published under the shared
 * name by link + rename (atomic: a client finds the old socket or the new one, never none), and
 * removed by its owner only while the shared name still means this socket (same inode), so a
 * process never deletes its successor's socket.
 *
 * <p>Plain file operations, no socket call: part of the public API so that the application
 * publishes a socket of its own ({@code admin.sock}) exactly as the library publishes {@code
 * reconfig.sock}.
 */
public final class SocketFile {

  private final Path boundPath;
  private final Object inode;
  private volatile Path path;

  private SocketFile(Path boundPath, Object inode) {
    this.boundPath = boundPath;
    this.path = boundPath;
    this.inode = inode;
  }

  /**
   * Takes the socket file just created by bind(2) at {@code path}: chmod 0600 (sockets are created
   * 0666 minus umask; the 0700 run directory is the real guard, this is the second) and remembers
   * its inode.
   */
  public static SocketFile bound(Path path) throws IOException {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    return new SocketFile(path, Files.getAttribute(path, "unix:ino"));
  }

  /** The shared name once published, else the name it was bound at. */
  public Path path() {
    return path;
  }

  public Path boundPath() {
    return boundPath;
  }

  /** Makes {@code target} name this socket, replacing whatever it named, in one rename. */
  public void publishAs(Path target) throws IOException {
    Path link = boundPath.resolveSibling(boundPath.getFileName() + ".link");
    try {
      Files.deleteIfExists(link);
      Files.createLink(link, boundPath);
      Files.move(link, target, StandardCopyOption.ATOMIC_MOVE);
      path = target;
    } catch (AtomicMoveNotSupportedException e) {
      deleteQuietly(link);
      throw e;
    } catch (IOException | RuntimeException e) {
      deleteQuietly(link);
      throw e;
    }
  }

  /** Whether the file at {@link #path()} is still this socket. */
  public boolean isStillOurs() {
    try {
      return inode.equals(Files.getAttribute(path, "unix:ino"));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Removes the shared name if (and only if) it is still this socket, and the bound name. */
  public void deleteIfStillOurs() {
    if (isStillOurs()) {
      deleteQuietly(path);
    }
    deleteBoundOnly();
  }

  /**
   * Removes only the bound name. For a process whose successor took over: the shared name is the
   * successor's from its Ready on, and checking the inode before deleting would race with the
   * successor's rename (check, rename, delete: the successor's socket gone).
   */
  public void deleteBoundOnly() {
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
}
