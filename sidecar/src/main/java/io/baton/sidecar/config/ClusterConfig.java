package io.baton.sidecar.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A group of upstream endpoints: listed here, or learned at run time from {@code discovery}.
 *
 * @param endpoints the static members (empty when {@code discovery} is set)
 * @param connectTimeout how long a connection attempt to one endpoint may take (then 502)
 * @param requestTimeout how long an HTTP upstream may take to start its response (then 504)
 * @param idleTimeout how long a pooled keep-alive upstream connection may stay unused
 * @param tls present: every upstream connection is TLS
 */
public record ClusterConfig(
    String name,
    List<HostPort> endpoints,
    Duration connectTimeout,
    Duration requestTimeout,
    Duration idleTimeout,
    Optional<DiscoveryConfig> discovery,
    Optional<ClusterTlsConfig> tls) {

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
  }

  /** A plain-text cluster. */
  public ClusterConfig(String name, List<HostPort> endpoints, Duration connectTimeout, Duration requestTimeout,
      Duration idleTimeout, Optional<DiscoveryConfig> discovery) {
    this(name, endpoints, connectTimeout, requestTimeout, idleTimeout, discovery, Optional.empty());
  }

  /** A cluster of static endpoints. */
  public ClusterConfig(String name, List<HostPort> endpoints, Duration connectTimeout, Duration requestTimeout,
      Duration idleTimeout) {
    this(name, endpoints, connectTimeout, requestTimeout, idleTimeout, Optional.empty(), Optional.empty());
  }
}
