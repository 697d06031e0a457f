package io.baton.handoff.os;

import io.baton.handoff.HandoffException;
import java.nio.file.Path;

/**
 * A call across the OS boundary failed. The message names the operation, the socket path and the fd
 * involved (where there is one) and the cause, e.g. {@code connect /run/baton/reconfig.sock (fd
 * -1): Connection refused}.
 */
public final class OsException extends HandoffException {
  private static final long serialVersionUID = 1L;

  /** What kind of failure, for the few callers that react differently to each. */
  public enum Kind {
    /** A read, accept or connect did not complete within its timeout. */
    TIMEOUT,
    /** connect(2) failed with ECONNREFUSED: a socket file nobody listens on (its owner died). */
    CONNECTION_REFUSED,
    /** The socket file does not exist. */
    NOT_FOUND,
    /** The socket was closed by this process while a call was blocked on it. */
    CLOSED_LOCALLY,
    /** Anything else. */
    OTHER
  }

  private final Kind kind;
  private final String operation;
  private final Path path;
  private final int fd;

  public OsException(Kind kind, String operation, Path path, int fd, Throwable cause) {
    super(
        operation
            + " "
            + (path == null ? "-" : path)
            + " (fd "
            + fd
            + "): "
            + describe(cause, kind),
        cause);
    this.kind = kind;
    this.operation = operation;
    this.path = path;
    this.fd = fd;
  }

  private static String describe(Throwable cause, Kind kind) {
    if (cause == null) {
      return kind.toString();
    }
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  public Kind kind() {
    return kind;
  }

  public boolean isTimeout() {
    return kind == Kind.TIMEOUT;
  }

  public String operation() {
    return operation;
  }

  /** The socket path involved, or null. */
  public Path path() {
    return path;
  }

  /** The fd involved, or -1. */
  public int fd() {
    return fd;
  }
}
