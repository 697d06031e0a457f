package io.baton.sidecar.adminrpc;

/** The admin API cannot be reached or answered with an error; the message says which and why. */
public final class AdminUnavailableException extends RuntimeException {

  public AdminUnavailableException(String message) {
    super(message);
  }

  public AdminUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
