package io.baton.sidecar.tcp;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.UpstreamChoice;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client connection of a {@code tcp} listener: connect to an endpoint, then relay bytes both
 * ways. The client is not read until the upstream connection exists, so a failed connect can try
 * the next member (each member at most once) before the client is closed; except that epoll reads a
 * client that half-closes meanwhile all the same, and {@link EarlyClientInput} holds that for the
 * relay.
 */
@ChannelHandler.Sharable
public final class TcpRelayInitializer extends ChannelInitializer<Channel> {

  private static final Logger log = LoggerFactory.getLogger(TcpRelayInitializer.class);
  private final ListenerContext context;

  public TcpRelayInitializer(ListenerContext context) {
    this.context = context;
  }

  @Override
  protected void initChannel(Channel client) {
    client.config().setAutoRead(false);
    client.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    EarlyClientInput early = new EarlyClientInput();
    client.pipeline().addLast(early);
    UpstreamChoice upstreams = new UpstreamChoice(context.cluster());
    HostPort endpoint = upstreams.first().orElse(null);
    if (endpoint == null) {
      context.clusterMetrics().upstreamError(UpstreamErrorReason.NO_ENDPOINT);
      log.warn(
          "listener {}: cluster {} has no endpoint: closing {}",
          context.name(),
          context.cluster().name(),
          client.remoteAddress());
      client.close();
      return;
    }
    connect(client, early, upstreams);
  }

  private void connect(Channel client, EarlyClientInput early, UpstreamChoice upstreams) {
    HostPort endpoint = upstreams.current();
    ChannelFuture connect =
        UpstreamConnector.connect(
            context.cluster(),
            client.eventLoop(),
            endpoint,
            new ChannelHandlerAdapter() {},
            false,
            true);
    client
        .closeFuture()
        .addListener(
            f -> {
              if (!connect.isDone()) {
                connect.cancel(false);
              }
            });
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            UpstreamErrorReason reason = UpstreamConnector.reasonOf(f.cause());
            if (!f.isCancelled()) { // cancelled: the client went away, which says nothing of the
              // member
              upstreams.recordFailure();
              upstreams.markUnreachable();
              HostPort next = client.isActive() ? upstreams.nextReachable().orElse(null) : null;
              if (next != null) {
                context.clusterMetrics().upstreamError(reason);
                log.warn(
                    "listener {} cluster {} endpoint {}: {} ({}), trying {}",
                    context.name(),
                    context.cluster().name(),
                    endpoint,
                    reason.label(),
                    f.cause().getMessage(),
                    next);
                upstreams.retryOn(next);
                connect(client, early, upstreams);
                return;
              }
            }
            context.clusterMetrics().upstreamError(reason);
            log.warn(
                "listener {} cluster {} endpoint {}: {} ({}): closing {}",
                context.name(),
                context.cluster().name(),
                endpoint,
                reason.label(),
                f.cause() == null ? "cancelled" : f.cause().getMessage(),
                client.remoteAddress());
            client.close();
            return;
          }
          upstreams.recordSuccess();
          Channel upstream = connect.channel();
          if (!client.isActive()) {
            upstream.close();
            return;
          }
          TcpRelay relay = new TcpRelay(context, client, upstream, endpoint.toString());
          client.pipeline().addLast(relay.clientSide());
          upstream.pipeline().addLast(relay.upstreamSide());
          early.handOver();
          if (!early.inputEnded()) {
            // Not for a client that sent its EOF: nothing is left to read, and Netty took its
            // emptied
            // fd out of epoll, so asking for EPOLLIN would fail with ENOENT (EpollHalfCloseRepair)
            // and close it.
            client.config().setAutoRead(true);
          }
          upstream.config().setAutoRead(true);
          if (context.drain().isDraining()) {
            relay.drainStarted(); // accepted as the drain began: it missed DRAIN_STARTED
          }
        });
  }
}
