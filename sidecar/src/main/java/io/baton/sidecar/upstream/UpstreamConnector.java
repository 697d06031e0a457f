package io.baton.sidecar.upstream;

import io.baton.sidecar.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.baton.sidecar.metrics.UpstreamErrorReason;

/** Opens upstream connections on the client connection's own event loop (no thread hop). */
public final class UpstreamConnector {

  private UpstreamConnector() {}

  /**
   * Connects to {@code endpoint} with the cluster's connect timeout; {@code handler} sets up the
   * pipeline. Reading starts only when {@code autoRead} is true.
   */
  public static ChannelFuture connect(Cluster cluster, EventLoop loop, HostPort endpoint, ChannelHandler handler,
      boolean autoRead, boolean allowHalfClosure) {
    return new Bootstrap()
        .group(loop)
        .channel(EpollSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, cluster.config().connectTimeout().toMillis()))
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, autoRead)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, allowHalfClosure)
        .handler(handler)
        .connect(endpoint.toSocketAddress());
  }

  /** The metrics reason of a failed connect. */
  public static UpstreamErrorReason reasonOf(Throwable connectFailure) {
    return connectFailure instanceof ConnectTimeoutException
        ? UpstreamErrorReason.CONNECT_TIMEOUT
        : UpstreamErrorReason.CONNECT_FAILED;
  }
}
