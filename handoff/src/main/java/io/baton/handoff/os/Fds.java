package io.baton.handoff.os;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.newsclub.net.unix.FileDescriptorCast;

/** Plain int file descriptors, and who this process is. */
public final class Fds {

  private Fds() {}

  /** A {@link FileDescriptor} naming {@code fd}, without taking ownership or duplicating it. */
  public static FileDescriptor wrap(int fd) throws OsException {
    try {
      return FileDescriptorCast.unsafeUsing(fd).getFileDescriptor();
    } catch (IOException | RuntimeException e) {
      throw new OsException(OsException.Kind.OTHER, "wrap-fd", null, fd, e);
    }
  }

  /** The int behind {@code fd}. */
  public static int intValue(FileDescriptor fd) throws OsException {
    try {
      Integer value = FileDescriptorCast.using(fd).as(Integer.class);
      return value;
    } catch (IOException | RuntimeException e) {
      throw new OsException(OsException.Kind.OTHER, "fd-int", null, -1, e);
    }
  }

  /** dup(2): a new fd for the same open file, owned by the caller. */
  public static int dup(FileDescriptor fd) throws OsException {
    try {
      return FileDescriptorCast.duplicating(fd).as(Integer.class);
    } catch (IOException | RuntimeException e) {
      throw new OsException(OsException.Kind.OTHER, "dup", null, safeInt(fd), e);
    }
  }

  /** dup(2) of a plain int fd. */
  public static int dup(int fd) throws OsException {
    return dup(wrap(fd));
  }

  /**
   * write(2) of all of {@code bytes} to {@code fd} (blocking if the fd is), through a stream that
   * never closes it: on an error (EPIPE: the peer closed) only this write fails.
   */
  public static void writeFully(int fd, byte[] bytes) throws OsException {
    try {
      new FileOutputStream(wrap(fd)).write(bytes);
    } catch (IOException e) {
      throw new OsException(OsException.Kind.OTHER, "write", null, fd, e);
    }
  }

  /** close(2). */
  public static void close(int fd) throws OsException {
    try {
      // FileInputStream.close() closes the fd it was given; it is the JDK's only public close(int).
      new FileInputStream(wrap(fd)).close();
    } catch (IOException e) {
      throw new OsException(OsException.Kind.OTHER, "close", null, fd, e);
    }
  }

  /**
   * close(2) through the {@link FileDescriptor} object: it becomes invalid, and whatever tracks it
   * (junixsocket's received-fd list) is told, so nothing closes the number again later.
   */
  public static void closeDescriptor(FileDescriptor fd) throws OsException {
    try {
      new FileInputStream(fd).close();
    } catch (IOException e) {
      throw new OsException(OsException.Kind.OTHER, "close", null, safeInt(fd), e);
    }
  }

  /** close(2), logging nothing and throwing nothing: for cleanup paths that already failed. */
  public static void closeQuietly(int fd) {
    if (fd < 0) {
      return;
    }
    try {
      close(fd);
    } catch (OsException | RuntimeException e) {
      // Cleanup only: the fd is gone or was never ours.
    }
  }

  /** {@link #closeQuietly(int)} for each. */
  public static void closeAllQuietly(int... fds) {
    for (int fd : fds) {
      closeQuietly(fd);
    }
  }

  /**
   * The effective uid of this process: the one SO_PEERCRED reports to our peers. Read from {@code
   * /proc/self/status} ("Uid: real effective saved fs"), which needs no extra JDK module.
   */
  public static long ownUid() throws OsException {
    Path status = Path.of("/proc/self/status");
    try {
      for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
        if (line.startsWith("Uid:")) {
          String[] fields = line.substring(4).trim().split("\\s+");
          return Long.parseLong(fields[1]);
        }
      }
      throw new IOException("no Uid: line");
    } catch (IOException | RuntimeException e) {
      throw new OsException(OsException.Kind.OTHER, "read-own-uid", status, -1, e);
    }
  }

  private static int safeInt(FileDescriptor fd) {
    try {
      return intValue(fd);
    } catch (OsException e) {
      return -1;
    }
  }
}
