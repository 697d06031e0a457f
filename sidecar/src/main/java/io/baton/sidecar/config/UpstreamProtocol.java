package io.baton.sidecar.config;

/**
 * What a cluster's members speak; the wire name is what the config says ({@code
 * clusters[].protocol}). HTTP/2 and HTTP/1.1 clients are proxied to any of them.
 */
public enum UpstreamProtocol {
  /** HTTP/1.1 over the keep-alive pool: one exchange per connection at a time. */
  HTTP1("http1"),
  /** HTTP/2 cleartext with prior knowledge: many streams per pooled connection. */
  H2C("h2c"),
  /** HTTP/2 over TLS (ALPN {@code h2}), pooled as h2c is; the cluster must have {@code tls}. */
  H2("h2");

  private final String wireName;

  UpstreamProtocol(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /**
   * Members speak HTTP/2 (cleartext or over TLS): exchanges are streams of the h2 upstream pool.
   */
  public boolean http2() {
    return this != HTTP1;
  }
}
