package io.baton.sidecar.upstream;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Idle HTTP/1.1 upstream connections of one event loop, by endpoint. Used from that event loop
 * only. A connection the upstream closes while it waits here leaves at once (close listener), and
 * one unused for the cluster's {@code idleTimeout} is closed by its idle handler.
 */
public final class UpstreamPool {

  private final ClusterConfig config;
  private final Map<HostPort, ArrayDeque<Channel>> idle = new HashMap<>();

  UpstreamPool(ClusterConfig config) {
    this.config = config;
  }

  /** A pooled, open connection to {@code endpoint}, most recently used first; null if none. */
  public Channel poll(HostPort endpoint) {
    ArrayDeque<Channel> channels = idle.get(endpoint);
    while (channels != null && !channels.isEmpty()) {
      Channel c = channels.pollFirst();
      if (c.isActive()) {
        return c;
      }
    }
    return null;
  }

  /** Returns a connection whose last exchange ended cleanly (response complete, keep-alive). */
  public void release(HostPort endpoint, Channel channel) {
    if (!channel.isActive()) {
      return;
    }
    idle.computeIfAbsent(endpoint, e -> new ArrayDeque<>()).addFirst(channel);
  }

  /** Called once per connection, when it closes, wherever it is. */
  public void forget(HostPort endpoint, Channel channel) {
    ArrayDeque<Channel> channels = idle.get(endpoint);
    if (channels != null) {
      channels.remove(channel);
    }
  }

  public ClusterConfig config() {
    return config;
  }
}
