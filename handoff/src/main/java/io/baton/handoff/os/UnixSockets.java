package io.baton.handoff.os;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/** Turns what junixsocket throws into {@link OsException}s. Package-private. */
final class UnixSockets {

  /** How many fds one frame may carry, and so the ancillary buffer to reserve for them. */
  static final int MAX_FDS_PER_FRAME = 253; // SCM_MAX_FD on Linux

  /** CMSG_SPACE(253 * 4) rounded up generously. */
  static final int ANCILLARY_BUFFER_BYTES = 4096;

  private UnixSockets() {}

  static OsException failure(
      String operation, Path path, int fd, Throwable cause, boolean closedLocally) {
    return new OsException(kindOf(cause, closedLocally), operation, path, fd, cause);
  }

  private static OsException.Kind kindOf(Throwable cause, boolean closedLocally) {
    if (closedLocally) {
      return OsException.Kind.CLOSED_LOCALLY;
    }
    if (cause instanceof SocketTimeoutException) {
      return OsException.Kind.TIMEOUT;
    }
    String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
    if (cause instanceof ConnectException || message.contains("connection refused")) {
      return OsException.Kind.CONNECTION_REFUSED;
    }
    if (cause instanceof NoSuchFileException
        || cause instanceof FileNotFoundException
        || message.contains("no such file")) {
      return OsException.Kind.NOT_FOUND;
    }
    return OsException.Kind.OTHER;
  }

  /** SO_TIMEOUT in millis for a wait of {@code timeout}: never 0, which would mean "forever". */
  static int timeoutMillis(Duration timeout) {
    long millis = timeout.toMillis();
    if (millis <= 0) {
      return 1;
    }
    return (int) Math.min(millis, Integer.MAX_VALUE);
  }

  static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      // Cleanup only.
    }
  }

  static IOException asIo(Exception e) {
    return e instanceof IOException io ? io : new IOException(e);
  }
}
