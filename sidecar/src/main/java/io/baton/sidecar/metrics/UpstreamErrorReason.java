package io.baton.sidecar.metrics;

/** The {@code reason} label of {@code baton_upstream_errors_total}. */
public enum UpstreamErrorReason {
  /** The endpoint refused the connection or was unreachable. */
  CONNECT_FAILED("connect_failed"),
  /** The connection attempt took longer than the cluster's connect timeout. */
  CONNECT_TIMEOUT("connect_timeout"),
  /** The TLS handshake with the upstream failed (its certificate, its name, or no TLS at all). */
  TLS_HANDSHAKE_FAILED("tls_handshake_failed"),
  /** The upstream did not start its response within the cluster's request timeout. */
  RESPONSE_TIMEOUT("response_timeout"),
  /** The upstream closed or reset the connection before its response was complete. */
  CONNECTION_LOST("connection_lost"),
  /** The upstream sent something that is not HTTP/1.1. */
  PROTOCOL_ERROR("protocol_error"),
  /** The cluster has no endpoint. */
  NO_ENDPOINT("no_endpoint");

  private final String label;

  UpstreamErrorReason(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
