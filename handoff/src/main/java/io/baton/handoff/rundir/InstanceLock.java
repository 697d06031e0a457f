package io.baton.handoff.rundir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A lock a process holds on {@code instance.<id>.lock} in the run directory for as long as it
 * lives: the kernel drops it when the process dies, however it dies. Another process asks whether
 * instance {@code id} has ended by trying to take the same lock. That question has the same answer
 * in every pid, mount and user namespace that shares the directory, unlike "is pid N alive".
 *
 * <p>The lock is a POSIX record lock (what {@link FileChannel#tryLock()} takes on Linux): it
 * belongs to the process, and closing <em>any</em> descriptor of the file in that process drops it.
 * So this JVM never opens the lock file of an instance it holds itself (tests run two generations
 * in one JVM): those ids are remembered in {@link #HELD_HERE} and answered without touching the
 * file.
 */
final class InstanceLock {

  private static final Set<String> HELD_HERE = ConcurrentHashMap.newKeySet();

  private final String id;
  private final Path file;
  private final FileChannel channel;

  private InstanceLock(String id, Path file, FileChannel channel) {
    this.id = id;
    this.file = file;
    this.channel = channel;
  }

  static Path fileOf(Path dir, String id) {
    return dir.resolve("instance." + id + ".lock");
  }

  /**
   * Creates and locks {@code instance.<id>.lock}. The file is locked under a name no cleanup looks
   * at and only then renamed into place: a process asking {@link #hasEnded} in between would
   * otherwise find it unlocked, judge it ended and remove it.
   */
  static InstanceLock take(Path dir, String id) throws IOException {
    Path file = fileOf(dir, id);
    Path unpublished = dir.resolve("instance-" + id + ".locking");
    FileChannel channel =
        FileChannel.open(
            unpublished,
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw new IOException(
            "instance lock "
                + unpublished
                + ": held by another process (expected: a new file nobody else knows)");
      }
      Files.move(unpublished, file, StandardCopyOption.ATOMIC_MOVE);
      HELD_HERE.add(id);
      return new InstanceLock(id, file, channel);
    } catch (IOException | RuntimeException e) {
      channel.close();
      Files.deleteIfExists(unpublished);
      throw e;
    }
  }

  /**
   * Whether instance {@code id} has ended: its lock file is gone, or nobody holds its lock. When in
   * doubt (the file cannot be opened for another reason) it has not.
   */
  static boolean hasEnded(Path dir, String id) {
    if (HELD_HERE.contains(id)) {
      return false;
    }
    try (FileChannel channel = FileChannel.open(fileOf(dir, id), StandardOpenOption.WRITE)) {
      FileLock lock = channel.tryLock();
      if (lock == null) {
        return false;
      }
      lock.release();
      return true;
    } catch (NoSuchFileException e) {
      return true;
    } catch (IOException | OverlappingFileLockException e) {
      return false;
    }
  }

  /** Removes the file while still holding the lock, then lets the lock go. */
  void release() {
    if (!HELD_HERE.contains(id)) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // A later process removes it: unlocked, it reads as ended.
    }
    try {
      channel.close();
    } catch (IOException e) {
      // The kernel drops the lock with the descriptor either way.
    }
    HELD_HERE.remove(id);
  }
}
