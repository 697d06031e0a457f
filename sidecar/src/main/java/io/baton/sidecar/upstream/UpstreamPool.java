package io.baton.sidecar.upstream;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.HostPort;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Idle HTTP/1.1 upstream connections of one event loop, by endpoint. Used from that event loop
 * only. A connection the upstream closes while it waits here leaves at once (close listener), and
 * one unused for the cluster's {@code idleTimeout} is closed by its idle handler. Only connections
 * to current members of the cluster stay here: one released after its member was removed is closed,
 * and the cluster has each pool close its idle ones when members go.
 */
public final class UpstreamPool {

  private final Cluster cluster;
  private final Map<HostPort, ArrayDeque<Channel>> idle = new HashMap<>();

  UpstreamPool(Cluster cluster) {
    this.cluster = cluster;
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

  /**
   * Returns a connection whose last exchange ended cleanly (response complete, keep-alive); closes
   * it instead when {@code endpoint} is no longer a member.
   */
  public void release(HostPort endpoint, Channel channel) {
    if (!channel.isActive()) {
      return;
    }
    if (!cluster.isMember(endpoint)) {
      channel.close();
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

  /**
   * Closes the idle connections to addresses that are no longer members. On this pool's event loop.
   */
  void closeIdleToNonMembers() {
    List<Channel> closing = new ArrayList<>();
    for (Iterator<Map.Entry<HostPort, ArrayDeque<Channel>>> it = idle.entrySet().iterator();
        it.hasNext(); ) {
      Map.Entry<HostPort, ArrayDeque<Channel>> e = it.next();
      if (!cluster.isMember(e.getKey())) {
        closing.addAll(e.getValue());
        it.remove();
      }
    }
    closing.forEach(Channel::close); // after the walk: a close may call forget()
  }

  public ClusterConfig config() {
    return cluster.config();
  }
}
