package io.baton.sidecar.config;

import java.time.Duration;
import java.util.List;

/**
 * A group of upstream endpoints, chosen round-robin.
 *
 * @param connectTimeout how long a connection attempt to one endpoint may take (then 502)
 * @param requestTimeout how long an HTTP upstream may take to start its response (then 504)
 * @param idleTimeout how long a pooled keep-alive upstream connection may stay unused
 */
public record ClusterConfig(
    String name,
    List<HostPort> endpoints,
    Duration connectTimeout,
    Duration requestTimeout,
    Duration idleTimeout) {

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
  }
}
