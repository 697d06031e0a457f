package io.baton.sidecar.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where a cluster learns its members at run time (nginx-upsync style).
 *
 * @param etcd the etcd v3 prefix whose keys are the members
 * @param dumpPath where the current members are written after each change, and read at a cold start
 *     when etcd cannot be reached
 * @param strongDependency refuse a cold start when etcd cannot be reached (the dump is not used)
 */
public record DiscoveryConfig(Etcd etcd, Optional<Path> dumpPath, boolean strongDependency) {

  /**
   * @param endpoints etcd client URLs' host:port, tried in turn
   * @param prefix the key prefix; each key under it is one member
   * @param timeout how long a cold start waits for the first read before it uses the dump (or, with
   *     strongDependency, refuses to start); also the deadline of each etcd request
   */
  public record Etcd(List<HostPort> endpoints, String prefix, Duration timeout) {
    public Etcd {
      endpoints = List.copyOf(endpoints);
    }
  }
}
