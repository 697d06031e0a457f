package io.baton.handoff.rundir;

import io.baton.handoff.HandoffException;
import io.baton.handoff.os.Fds;
import io.baton.handoff.peer.ProcessIdentity;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directory of the control sockets, shared by consecutive generations.
 *
 * <p>It must be 0700 (or at least not writable by group or others) and owned by this process's uid:
 * junixsocket creates socket files 0666, and whoever may write here could put their own socket at
 * {@code reconfig.sock} or {@code listen.sock} and receive our listeners.
 *
 * <p>Files here are named by role ({@code reconfig.sock}, {@code listen.sock}, {@code conn.sock},
 * {@code admin.sock}) or, where one belongs to one process, by role and that process's instance id
 * ({@code reconfig.sock.<instance>.<n>}, {@code admin.sock.<instance>}, {@code
 * instance.<instance>.lock}); never by pid. Whether a process is still there is asked of the lock
 * it holds on its {@code instance.<instance>.lock}, which the kernel releases when it dies: that
 * answer holds across pid, mount and user namespaces sharing the directory, where pids collide or
 * lie.
 */
public final class RunDirectory implements AutoCloseable {

  public static final String RECONFIG_SOCK = "reconfig.sock";
  public static final String LISTEN_SOCK = "listen.sock";
  public static final String CONN_SOCK = "conn.sock";

  private static final Logger log = LoggerFactory.getLogger(RunDirectory.class);

  private final Path dir;
  private final ProcessIdentity self;
  private final InstanceLock lock;
  private final AtomicLong tempSequence = new AtomicLong();

  private RunDirectory(Path dir, ProcessIdentity self, InstanceLock lock) {
    this.dir = dir;
    this.self = self;
    this.lock = lock;
  }

  /**
   * Creates {@code dir} 0700 if absent; refuses one writable by group or others, or owned by
   * another uid, or that is not a directory (symlinks are not followed). Then takes {@code self}'s
   * instance lock there, held until {@link #close()} or the process's end: it is how later
   * processes tell that {@code self}'s files are still in use, whatever pid namespace they live in.
   */
  public static RunDirectory open(Path dir, ProcessIdentity self) throws HandoffException {
    Path path = dir.toAbsolutePath().normalize();
    try {
      if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(
            path,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (IOException e) {
      throw new HandoffException("runDir: " + path + " cannot be created: " + e, e);
    }
    try {
      if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        throw new HandoffException(
            "runDir: "
                + path
                + " is not a directory (expected: a directory, mode 0700, owned by this process's"
                + " uid)");
      }
      Set<PosixFilePermission> mode =
          Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
      long owner =
          ((Number) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
      long ownUid = Fds.ownUid();
      String described = "mode " + PosixFilePermissions.toString(mode) + ", owner uid " + owner;
      if (mode.contains(PosixFilePermission.GROUP_WRITE)
          || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new HandoffException(
            "runDir: "
                + path
                + " is writable by group or others ("
                + described
                + ") (expected: mode 0700, not writable by group or others; run chmod 0700 "
                + path
                + ")");
      }
      if (owner != ownUid) {
        throw new HandoffException(
            "runDir: "
                + path
                + " is owned by another user ("
                + described
                + ") (expected: owner uid "
                + ownUid
                + ", mode 0700)");
      }
      return new RunDirectory(path, self, InstanceLock.take(path, self.instanceId()));
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

  /** This process as it tells its peers (its instance id names its files here). */
  public ProcessIdentity self() {
    return self;
  }

  /**
   * A fresh path for a control socket that will be renamed over {@code reconfig.sock}: {@code
   * reconfig.sock.<instance>.<n>}. Never a pid: in a pod every generation may be pid 1, and one
   * process binding another's name (bind removes the file first) then deletes that process's socket
   * when it exits.
   */
  public Path newTempControlSocket() {
    return dir.resolve(
        RECONFIG_SOCK + "." + self.instanceId() + "." + tempSequence.incrementAndGet());
  }

  /**
   * This process's own name for a socket published under {@code sharedName} (e.g. {@code
   * admin.sock} is bound at {@code admin.sock.<instance>} and linked over {@code admin.sock}).
   */
  public Path ownSocket(String sharedName) {
    return dir.resolve(sharedName + "." + self.instanceId());
  }

  /**
   * Waits (at most {@code timeout}) until no other process is deciding whether to cold-start here,
   * and takes that turn ({@link ArrivalLock}); {@code waiting} runs once if it has to wait.
   */
  public ArrivalLock awaitArrivalTurn(Duration timeout, Runnable waiting) throws HandoffException {
    return ArrivalLock.take(dir, timeout, waiting);
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
   * Removes the files of processes that are gone: every {@code NAME.<instance>[.…]} whose instance
   * lock nobody holds any more (killed, or its lock file already removed). Files of live processes,
   * and names not of this shape, are left alone.
   */
  public void removeFilesOfEndedInstances() {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String owner = instanceOf(entry.getFileName().toString());
        if (owner != null
            && !owner.equals(self.instanceId())
            && InstanceLock.hasEnded(dir, owner)) {
          removeQuietly(entry);
        }
      }
    } catch (IOException e) {
      log.warn(
          "runDir: {} cannot be listed to remove the files of ended processes: {}",
          dir,
          e.toString());
    }
  }

  /**
   * The instance id a file name carries ({@code reconfig.sock.ID.N}, {@code admin.sock.ID}, {@code
   * instance.ID.lock}), or null.
   */
  static String instanceOf(String fileName) {
    for (String part : fileName.split("\\.")) {
      if (ProcessIdentity.isInstanceId(part)) {
        return part;
      }
    }
    return null;
  }

  /**
   * This process leaves the run directory: its instance lock is released and removed. Its sockets
   * are removed by their owners before (and by {@link #removeFilesOfEndedInstances} of a later
   * process if it was killed).
   */
  @Override
  public void close() {
    lock.release();
  }

  @Override
  public String toString() {
    return dir.toString();
  }
}
