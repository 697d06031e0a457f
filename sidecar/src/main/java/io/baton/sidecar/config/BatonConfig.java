package io.baton.sidecar.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The effective configuration of one generation, after validation. Immutable. */
public record BatonConfig(
    Path runDir,
    AdminConfig admin,
    DrainConfig drain,
    HandoffConfig handoff,
    List<ListenerConfig> listeners,
    List<ClusterConfig> clusters) {

  public BatonConfig {
    listeners = List.copyOf(listeners);
    clusters = List.copyOf(clusters);
  }

  public Optional<ClusterConfig> cluster(String name) {
    return clusters.stream().filter(c -> c.name().equals(name)).findFirst();
  }
}
