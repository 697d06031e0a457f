package io.baton.sidecar.upstream;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.ClusterMetrics;
import io.netty.channel.EventLoop;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** An upstream cluster: its endpoints, chosen round-robin, and its keep-alive pools (one per event loop). */
public final class Cluster {

  private final ClusterConfig config;
  private final ClusterMetrics metrics;
  private final AtomicInteger next = new AtomicInteger();
  private final Map<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();

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

  public String name() {
    return config.name();
  }

  /** The next endpoint in round-robin order; empty when the cluster has none (then 503). */
  public Optional<HostPort> nextEndpoint() {
    var endpoints = config.endpoints();
    if (endpoints.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(endpoints.get(Math.floorMod(next.getAndIncrement(), endpoints.size())));
  }

  /**
   * The HTTP/1.1 keep-alive pool of {@code loop}. A client connection and its upstream connection
   * share an event loop, so a pool is only ever touched from its own thread: no locks.
   */
  public UpstreamPool pool(EventLoop loop) {
    return pools.computeIfAbsent(loop, l -> new UpstreamPool(config));
  }
}
