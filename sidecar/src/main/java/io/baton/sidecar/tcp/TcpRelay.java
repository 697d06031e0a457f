package io.baton.sidecar.tcp;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.baton.sidecar.listener.EpollHalfCloseRepair;
import io.netty.util.ReferenceCountUtil;

/**
 * A client connection and its upstream connection, relaying bytes both ways on one event loop.
 * Each direction ends on its own (half-close: EOF on one side shuts the output of the other); the
 * pair closes when both directions have ended, or at once on an error or a reset.
 */
final class TcpRelay {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TcpRelay.class);

  /** Which directions still carry bytes. */
  private enum Flow {
    BOTH,
    ONLY_CLIENT_TO_UPSTREAM,
    ONLY_UPSTREAM_TO_CLIENT,
    NONE
  }

  private final Channel client;
  private final Channel upstream;
  private Flow flow = Flow.BOTH;

  TcpRelay(Channel client, Channel upstream) {
    this.client = client;
    this.upstream = upstream;
    this.fromClientSide = new Direction(true);
    this.fromUpstreamSide = new Direction(false);
  }

  private final Direction fromClientSide;
  private final Direction fromUpstreamSide;

  ChannelInboundHandlerAdapter clientSide() {
    return fromClientSide;
  }

  ChannelInboundHandlerAdapter upstreamSide() {
    return fromUpstreamSide;
  }

  private void inputEnded(boolean fromClient) {
    flow = switch (flow) {
      case BOTH -> fromClient ? Flow.ONLY_UPSTREAM_TO_CLIENT : Flow.ONLY_CLIENT_TO_UPSTREAM;
      case ONLY_CLIENT_TO_UPSTREAM -> fromClient ? Flow.NONE : flow;
      case ONLY_UPSTREAM_TO_CLIENT -> fromClient ? flow : Flow.NONE;
      case NONE -> Flow.NONE;
    };
    if (flow == Flow.NONE) {
      closeBoth();
    }
  }

  private void closeBoth() {
    flow = Flow.NONE;
    client.close();
    upstream.close();
  }

  /** Reads one side and writes to the other, with backpressure both ways. */
  private final class Direction extends ChannelInboundHandlerAdapter {
    private final Channel peer;
    private final boolean fromClient;

    Direction(boolean fromClient) {
      this.peer = fromClient ? upstream : client;
      this.fromClient = fromClient;
    }

    private Direction peerDirection() {
      return fromClient ? fromUpstreamSide : fromClientSide;
    }

    /** This side sent its EOF; the relay may still write to it (the other direction). */
    boolean eofReceived;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!peer.isActive()) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (peerDirection().eofReceived) {
        EpollHalfCloseRepair.beforeWrite(peer);
      }
      peer.writeAndFlush(msg).addListener(f -> {
        if (!f.isSuccess()) {
          log.warn("tcp relay {} -> {}: write to the {} failed, closing both: {}", client.remoteAddress(),
              upstream.remoteAddress(), fromClient ? "upstream" : "client", f.cause().toString());
          closeBoth();
        }
      });
      if (!peer.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      // This side drained its writes: the peer may read again, unless it already sent its EOF
      // (nothing left to read, and asking epoll for reads on it would trip EpollHalfCloseRepair's defect).
      if (ctx.channel().isWritable() && !peerDirection().eofReceived) {
        peer.config().setAutoRead(true);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        eofReceived = true;
        // EOF on this side: pass it on once what was read before it has been written.
        peer.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> {
          if (peer instanceof DuplexChannel duplex && peer.isActive()) {
            duplex.shutdownOutput();
          }
          inputEnded(fromClient);
        });
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      // A closed (not half-closed) side, e.g. a reset: nothing more can flow either way.
      peer.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> closeBoth());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.info("tcp relay {} -> {}: {} side failed ({}), closing both", client.remoteAddress(), upstream.remoteAddress(),
          fromClient ? "client" : "upstream", cause.toString());
      closeBoth();
    }
  }
}
