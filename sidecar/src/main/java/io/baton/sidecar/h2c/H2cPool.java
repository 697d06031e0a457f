package io.baton.sidecar.h2c;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Cluster;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The h2c upstream connections of one cluster on one event loop, by member: each carries many
 * streams. A new stream goes to the first connection that takes one (not going away, below the
 * member's MAX_CONCURRENT_STREAMS), else to a new connection. Used from its event loop only, like
 * the HTTP/1.1 pool; streams of client connections on other loops use their loop's own pool.
 */
public final class H2cPool {

  private static final FastThreadLocal<Map<Cluster, H2cPool>> POOLS =
      new FastThreadLocal<>() {
        @Override
        protected Map<Cluster, H2cPool> initialValue() {
          return new IdentityHashMap<>();
        }
      };

  private final Cluster cluster;
  private final EventLoop loop;
  private final Map<HostPort, List<H2cConnection>> connections = new HashMap<>();

  private H2cPool(Cluster cluster, EventLoop loop) {
    this.cluster = cluster;
    this.loop = loop;
  }

  /** The pool of {@code cluster} on {@code loop}; call on {@code loop}. */
  public static H2cPool of(Cluster cluster, EventLoop loop) {
    return POOLS.get().computeIfAbsent(cluster, c -> new H2cPool(c, loop));
  }

  /**
   * Opens a stream to {@code endpoint} served by {@code handler}; {@code then} gets the stream, or
   * why there is none (a connect failure, or the connection went away before the stream opened:
   * either way never processed).
   */
  public void openStream(
      HostPort endpoint,
      ChannelHandler handler,
      BiConsumer<Http2StreamChannel, H2cStreamFailure> then) {
    List<H2cConnection> list = connections.computeIfAbsent(endpoint, e -> new ArrayList<>(2));
    // By index: asking a connection may make it leave the list (it learned of a GOAWAY).
    for (int i = 0; i < list.size(); ) {
      H2cConnection c = list.get(i);
      if (c.takesNewStream()) {
        c.open(handler, then);
        return;
      }
      if (i < list.size() && list.get(i) == c) {
        i++;
      }
    }
    H2cConnection fresh = new H2cConnection(this, cluster, loop, endpoint);
    list.add(fresh);
    fresh.open(handler, then);
  }

  /** Connections to {@code endpoint} open now (for tests and the multiplexing check). */
  int connectionCount(HostPort endpoint) {
    List<H2cConnection> list = connections.get(endpoint);
    return list == null ? 0 : list.size();
  }

  void closed(H2cConnection connection) {
    List<H2cConnection> list = connections.get(connection.endpoint());
    if (list != null) {
      list.remove(connection);
    }
  }
}
