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
 * @param protocol what the members speak: HTTP/1.1 (the default), h2c or h2 (HTTP/2 over TLS)
 * @param tls present: every upstream connection is TLS (http1 and h2 clusters; required by h2)
 */
public record ClusterConfig(
    String name,
    List<HostPort> endpoints,
    Duration connectTimeout,
    Duration requestTimeout,
    Duration idleTimeout,
    Optional<DiscoveryConfig> discovery,
    UpstreamProtocol protocol,
    Optional<ClusterTlsConfig> tls) {

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
  }

  /** A plain-text cluster whose members speak {@code protocol}. */
  public ClusterConfig(
      String name,
      List<HostPort> endpoints,
      Duration connectTimeout,
      Duration requestTimeout,
      Duration idleTimeout,
      Optional<DiscoveryConfig> discovery,
      UpstreamProtocol protocol) {
    this(
        name,
        endpoints,
        connectTimeout,
        requestTimeout,
        idleTimeout,
        discovery,
        protocol,
        Optional.empty());
  }

  /** A plain-text cluster whose members speak HTTP/1.1. */
  public ClusterConfig(
      String name,
      List<HostPort> endpoints,
      Duration connectTimeout,
      Duration requestTimeout,
      Duration idleTimeout,
      Optional<DiscoveryConfig> discovery) {
    this(
        name,
        endpoints,
        connectTimeout,
        requestTimeout,
        idleTimeout,
        discovery,
        UpstreamProtocol.HTTP1);
  }

  /** A cluster of static plain-text HTTP/1.1 endpoints. */
  public ClusterConfig(
      String name,
      List<HostPort> endpoints,
      Duration connectTimeout,
      Duration requestTimeout,
      Duration idleTimeout) {
    this(
        name,
        endpoints,
        connectTimeout,
        requestTimeout,
        idleTimeout,
        Optional.empty(),
        UpstreamProtocol.HTTP1);
  }
}
