package io.baton.sidecar.demo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP echo server on 127.0.0.1 (Netty epoll) that honours half-close: when the peer shuts its
 * output, everything received is still echoed, then this side shuts its output (FIN) and closes.
 * Reading pauses while the peer does not read (backpressure).
 */
public final class TcpEchoUpstream implements AutoCloseable {

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel server;
  private final AtomicLong accepted = new AtomicLong();

  private TcpEchoUpstream(int port) {
    boss = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("tcp-echo-boss", true), EpollIoHandler.newFactory());
    workers = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("tcp-echo-io", true), EpollIoHandler.newFactory());
    try {
      server = new ServerBootstrap()
          .group(boss, workers)
          .channel(EpollServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .option(ChannelOption.SO_REUSEADDR, true)
          .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              accepted.incrementAndGet();
              ch.pipeline().addLast(new Echo());
            }
          })
          .bind(new InetSocketAddress("127.0.0.1", port))
          .syncUninterruptibly()
          .channel();
    } catch (RuntimeException e) {
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Starts on 127.0.0.1:{@code port}; 0 picks a free port. */
  public static TcpEchoUpstream start(int port) {
    return new TcpEchoUpstream(port);
  }

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** How many connections were accepted since start. */
  public long connectionsAccepted() {
    return accepted.get();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
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
