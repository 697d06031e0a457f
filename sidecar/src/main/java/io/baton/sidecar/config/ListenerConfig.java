package io.baton.sidecar.config;

import java.util.Optional;

/**
 * A data-plane listener. Its {@code name} is what matches it across generations.
 *
 * @param tls present: the listener terminates TLS (only on {@code http} listeners)
 * @param maxConnections at most this many client connections open at once in this process; 0 for no
 *     limit. Beyond it the listener stops accepting and new clients wait in the kernel's queue.
 */
public record ListenerConfig(
    String name,
    HostPort address,
    ListenerProtocol protocol,
    String cluster,
    Optional<ListenerTlsConfig> tls,
    int maxConnections) {

  /** No connection limit. */
  public static final int UNLIMITED = 0;

  /** Without a connection limit. */
  public ListenerConfig(
      String name,
      HostPort address,
      ListenerProtocol protocol,
      String cluster,
      Optional<ListenerTlsConfig> tls) {
    this(name, address, protocol, cluster, tls, UNLIMITED);
  }

  /** A plain-text listener without a connection limit. */
  public ListenerConfig(String name, HostPort address, ListenerProtocol protocol, String cluster) {
    this(name, address, protocol, cluster, Optional.empty());
  }

  public boolean isTls() {
    return tls.isPresent();
  }
}
