package io.baton.testkit.upstream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An epoll server on 127.0.0.1 for the test upstreams: its event loops, its socket, its accept
 * count.
 */
public final class LoopbackServer implements AutoCloseable {

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel server;
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong open = new AtomicLong();

  /**
   * @param name prefix of the thread names
   * @param workerThreads 0 for Netty's default
   * @param halfClosure whether accepted connections see the peer's EOF as half-close
   * @param pipeline sets up each accepted connection
   */
  public LoopbackServer(
      String name,
      int port,
      int workerThreads,
      boolean halfClosure,
      Consumer<SocketChannel> pipeline) {
    boss =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory(name + "-boss", true), EpollIoHandler.newFactory());
    workers =
        new MultiThreadIoEventLoopGroup(
            workerThreads,
            new DefaultThreadFactory(name + "-io", true),
            EpollIoHandler.newFactory());
    try {
      server =
          new ServerBootstrap()
              .group(boss, workers)
              .channel(EpollServerSocketChannel.class)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      accepted.incrementAndGet();
                      open.incrementAndGet();
                      ch.closeFuture().addListener(f -> open.decrementAndGet());
                      pipeline.accept(ch);
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

  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  public long connectionsAccepted() {
    return accepted.get();
  }

  public long connectionsOpen() {
    return open.get();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
