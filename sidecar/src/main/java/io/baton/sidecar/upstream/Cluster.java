package io.baton.sidecar.upstream;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.metrics.ClusterMetrics;

/** An upstream cluster: its endpoints, chosen round-robin. */
public final class Cluster {

  private final ClusterConfig config;
  private final ClusterMetrics metrics;

  public Cluster(ClusterConfig config, ClusterMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  public ClusterConfig config() {
    return config;
  }

  public ClusterMetrics metrics() {
    return metrics;
  }
}
