package io.baton.sidecar.upstream;

import io.baton.sidecar.config.HostPort;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The end of an upstream connection: hands what arrives to the client connection that currently
 * owns it ({@code owner}, set and cleared on the shared event loop), or closes a pooled connection
 * that went idle or that the upstream closed.
 */
public final class Http1UpstreamHandler extends ChannelInboundHandlerAdapter {

  /**
   * The exchange that currently uses the connection: an HTTP/1.1 client's, or an HTTP/2 stream's.
   */
  public interface Owner {
    void upstreamRead(Channel upstream, Object msg);

    void upstreamClosed(Channel upstream);

    void upstreamWritabilityChanged(Channel upstream);
  }

  private final Cluster cluster;
  private final HostPort endpoint;
  private Owner owner;

  public Http1UpstreamHandler(Cluster cluster, HostPort endpoint) {
    this.cluster = cluster;
    this.endpoint = endpoint;
  }

  public void owner(Owner value) {
    owner = value;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (owner == null) {
      // An upstream that speaks while pooled breaks the protocol: drop the connection.
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    owner.upstreamRead(ctx.channel(), msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cluster.pool(ctx.channel().eventLoop()).forget(endpoint, ctx.channel());
    if (owner != null) {
      owner.upstreamClosed(ctx.channel());
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (owner != null) {
      owner.upstreamWritabilityChanged(ctx.channel());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && owner == null) {
      ctx.close(); // unused for idleTimeout while pooled
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
