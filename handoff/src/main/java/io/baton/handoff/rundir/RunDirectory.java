package io.baton.handoff.rundir;

import io.baton.handoff.HandoffException;
import io.baton.handoff.os.Fds;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The directory of the control sockets, shared by consecutive generations.
 *
 * <p>It must be 0700 (or at least not writable by group or others) and owned by this process's
 * uid: junixsocket creates socket files 0666, and whoever may write here could put their own
 * socket at {@code reconfig.sock} or {@code listen.sock} and receive our listeners.
 */
public final class RunDirectory {

  public static final String RECONFIG_SOCK = "reconfig.sock";
  public static final String LISTEN_SOCK = "listen.sock";
  public static final String CONN_SOCK = "conn.sock";

  private static final AtomicLong TEMP_SEQUENCE = new AtomicLong();

  private final Path dir;

  private RunDirectory(Path dir) {
    this.dir = dir;
  }

  /**
   * Creates {@code dir} 0700 if absent; refuses one writable by group or others, or owned by another
   * uid, or that is not a directory (symlinks are not followed).
   */
  public static RunDirectory open(Path dir) throws HandoffException {
    Path path = dir.toAbsolutePath().normalize();
    try {
      if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (IOException e) {
      throw new HandoffException("runDir: " + path + " cannot be created: " + e, e);
    }
    try {
      if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        throw new HandoffException("runDir: " + path + " is not a directory (expected: a directory, mode 0700, owned by this process's uid)");
      }
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
      long owner = ((Number) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
      long ownUid = Fds.ownUid();
      String described = "mode " + PosixFilePermissions.toString(mode) + ", owner uid " + owner;
      if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new HandoffException(
            "runDir: " + path + " is writable by group or others (" + described
                + ") (expected: mode 0700, not writable by group or others; run chmod 0700 " + path + ")");
      }
      if (owner != ownUid) {
        throw new HandoffException(
            "runDir: " + path + " is owned by another user (" + described + ") (expected: owner uid " + ownUid + ", mode 0700)");
      }
      return new RunDirectory(path);
    } catch (IOException e) {
      throw new HandoffException("runDir: " + path + " cannot be checked: " + e, e);
    }
  }

  public Path path() {
    return dir;
  }

  /** Served by the active process; a new process asks for the baton here. */
  public Path reconfigSocket() {
    return dir.resolve(RECONFIG_SOCK);
  }

  /** Served by the incoming process while the outgoing one passes its listeners. */
  public Path listenSocket() {
    return dir.resolve(LISTEN_SOCK);
  }

  /** Served by the incoming process for live connections (reserved; not used by this version). */
  public Path connSocket() {
    return dir.resolve(CONN_SOCK);
  }

  /**
   * A fresh path for a control socket that will be renamed over {@code reconfig.sock}: {@code
   * reconfig.sock.<pid>.<n>}, unique within this process too (tests run two generations in one
   * JVM).
   */
  public Path newTempControlSocket() {
    long pid = ProcessHandle.current().pid();
    return dir.resolve(RECONFIG_SOCK + "." + pid + "." + TEMP_SEQUENCE.incrementAndGet());
  }

  /** Removes {@code path} if it is there; an error is a HandoffException naming the file. */
  public void remove(Path path) throws HandoffException {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw new HandoffException("cannot remove " + path + ": " + e, e);
    }
  }

  /** Removes {@code path} if it is there, ignoring errors (cleanup after a failure). */
  public void removeQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // Best effort.
    }
  }

  /**
   * Removes temporary control sockets ({@code reconfig.sock.<pid>.<n>} and their {@code .link})
   * left behind by processes
   * that no longer exist. Sockets of live processes are left alone.
   */
  public void removeStaleTempSockets() {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, RECONFIG_SOCK + ".*")) {
      for (Path entry : entries) {
        String[] parts = entry.getFileName().toString().split("\\.");
        // reconfig . sock . pid . n [. link]
        if (parts.length != 4 && !(parts.length == 5 && parts[4].equals("link"))) {
          continue;
        }
        try {
          long pid = Long.parseLong(parts[2]);
          if (ProcessHandle.of(pid).isEmpty()) {
            removeQuietly(entry);
          }
        } catch (NumberFormatException e) {
          // Not ours: leave it.
        }
      }
    } catch (IOException e) {
      // Best effort.
    }
  }

  @Override
  public String toString() {
    return dir.toString();
  }
}
