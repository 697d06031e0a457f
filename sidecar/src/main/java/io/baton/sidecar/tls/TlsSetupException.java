package io.baton.sidecar.tls;

/** A TLS context cannot be built (files, the OpenSSL engine): start-up stops with this message. */
public final class TlsSetupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TlsSetupException(String message, Throwable cause) {
    super(message, cause);
  }
}
