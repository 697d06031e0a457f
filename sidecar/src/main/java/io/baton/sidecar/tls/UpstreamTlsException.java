package io.baton.sidecar.tls;

import io.baton.sidecar.config.HostPort;

/**
 * The TLS handshake with an upstream member failed after its TCP connect succeeded: a failure of
 * that member, like a refused connect (nothing of the request was sent).
 */
public final class UpstreamTlsException extends Exception {
  private static final long serialVersionUID = 1L;

  public UpstreamTlsException(HostPort endpoint, Throwable cause) {
    super(
        "TLS handshake with " + endpoint + " failed: " + TlsHandshakeObserver.reason(cause), cause);
  }
}
