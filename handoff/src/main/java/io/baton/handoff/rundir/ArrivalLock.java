package io.baton.handoff.rundir;

import io.baton.handoff.HandoffException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * Makes "is there an active process, or do I cold-start?" one question at a time per run directory.
 * Two processes started at once (two slots of a pod without the postStart ordering, {@code podman
 * kube play}, a kubelet restarting both) would otherwise both find no {@code reconfig.sock}, both
 * cold-start, and one would fail to bind. With the lock the second waits until the first has
 * published {@code reconfig.sock} (or died: the kernel drops the lock), then takes over from it.
 *
 * <p>A POSIX record lock on {@code arrival.lock} in the run directory, like {@link InstanceLock}:
 * it holds across pid, mount and user namespaces. Within one JVM (tests run generations side by
 * side) Java refuses a second lock on the same file with {@link OverlappingFileLockException},
 * which here means "held": wait.
 */
public final class ArrivalLock implements AutoCloseable {

  static final String FILE = "arrival.lock";
  private static final long RETRY_NANOS = Duration.ofMillis(20).toNanos();

  private final FileChannel channel;
  private final FileLock lock;

  private ArrivalLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock, waiting at most {@code timeout} for a process that holds it; {@code waiting}
   * runs once if it has to wait (for a log line).
   */
  static ArrivalLock take(Path dir, Duration timeout, Runnable waiting) throws HandoffException {
    Path file = dir.resolve(FILE);
    FileChannel channel;
    try {
      channel =
          FileChannel.open(
              file,
              Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (IOException e) {
      throw new HandoffException("runDir: " + file + " cannot be opened: " + e, e);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean said = false;
    try {
      while (true) {
        FileLock lock = tryLock(channel);
        if (lock != null) {
          return new ArrivalLock(channel, lock);
        }
        if (System.nanoTime() - deadline >= 0) {
          throw new HandoffException(
              "runDir: "
                  + file
                  + " is still held after "
                  + timeout
                  + " by another process starting in "
                  + dir
                  + " (expected: it serves, or exits, within handoff.readyTimeout)");
        }
        if (!said) {
          waiting.run();
          said = true;
        }
        // fcntl offers no wait with a deadline: a short retry interval, bounded by the deadline.
        LockSupport.parkNanos(RETRY_NANOS);
      }
    } catch (HandoffException | RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static FileLock tryLock(FileChannel channel) throws HandoffException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    } catch (IOException e) {
      throw new HandoffException("runDir: " + FILE + " cannot be locked: " + e, e);
    }
  }

  /**
   * Lets the next starting process look; idempotent. The file stays: removing it would race with a
   * waiter.
   */
  @Override
  public void close() {
    if (!channel.isOpen()) {
      return;
    }
    try {
      lock.release();
    } catch (IOException e) {
      // Closing the channel drops it too.
    }
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }
}
