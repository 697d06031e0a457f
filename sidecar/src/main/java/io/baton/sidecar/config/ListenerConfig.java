package io.baton.sidecar.config;

import java.util.Optional;

/**
 * A data-plane listener. Its {@code name} is what matches it across generations.
 *
 * @param tls present: the listener terminates TLS (only on {@code http} listeners)
 */
public record ListenerConfig(
    String name,
    HostPort address,
    ListenerProtocol protocol,
    String cluster,
    Optional<ListenerTlsConfig> tls) {

  /** A plain-text listener. */
  public ListenerConfig(String name, HostPort address, ListenerProtocol protocol, String cluster) {
    this(name, address, protocol, cluster, Optional.empty());
  }

  public boolean isTls() {
    return tls.isPresent();
  }
}
