package io.baton.sidecar.demo;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;

/**
 * A TCP echo server on 127.0.0.1 (Netty epoll) that honours half-close: when the peer shuts its
 * output, everything received is still echoed, then this side shuts its output (FIN) and closes.
 * Reading pauses while the peer does not read (backpressure).
 */
public final class TcpEchoUpstream implements AutoCloseable {

  private final LoopbackServer server;

  private TcpEchoUpstream(int port) {
    server = new LoopbackServer("tcp-echo", port, 2, true, ch -> ch.pipeline().addLast(new Echo()));
  }

  /** Starts on 127.0.0.1:{@code port}; 0 picks a free port. */
  public static TcpEchoUpstream start(int port) {
    return new TcpEchoUpstream(port);
  }

  public int port() {
    return server.port();
  }

  /** How many connections were accepted since start. */
  public long connectionsAccepted() {
    return server.connectionsAccepted();
  }

  @Override
  public void close() {
    server.close();
  }

  private static final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.write(msg);
      if (!ctx.channel().isWritable()) {
        // Pause before flushing: the flush may drain the buffer and fire channelWritabilityChanged.
        ctx.channel().config().setAutoRead(false);
        ctx.flush();
        if (ctx.channel().isWritable()) {
          ctx.channel().config().setAutoRead(true);
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) {
        ctx.channel().config().setAutoRead(true);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        // Everything read so far has been written (channelRead writes synchronously): flush it,
        // then send our FIN once it is out, then close.
        DuplexChannel ch = (DuplexChannel) ctx.channel();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
          if (f.isSuccess()) {
            ch.shutdownOutput().addListener(g -> ch.close());
          } else {
            ch.close();
          }
        });
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
