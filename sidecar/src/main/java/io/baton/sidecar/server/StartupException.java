package io.baton.sidecar.server;

/** This generation cannot start; the message is the reason printed before exiting non-zero. */
public final class StartupException extends Exception {
  private static final long serialVersionUID = 1L;

  public StartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
