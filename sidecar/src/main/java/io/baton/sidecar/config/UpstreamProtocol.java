package io.baton.sidecar.config;

/**
 * What a cluster's members speak; the wire name is what the config says ({@code clusters[].protocol}).
 * HTTP/2 clients are proxied to either; HTTP/1.1 clients only to {@link #HTTP1}.
 */
public enum UpstreamProtocol {
  /** HTTP/1.1 over the keep-alive pool: one exchange per connection at a time. */
  HTTP1("http1"),
  /** HTTP/2 cleartext with prior knowledge: many streams per pooled connection. */
  H2C("h2c");

  private final String wireName;

  UpstreamProtocol(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }
}
