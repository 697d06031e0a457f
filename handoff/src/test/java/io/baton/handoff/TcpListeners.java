package io.baton.handoff;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.Socket;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Real listening TCP sockets on 127.0.0.1:0, made with Netty's native transport (the sidecar's),
 * and the proof that a received fd accepts real connections.
 */
// Two Socket types meet here: Netty's fd-level unix.Socket (imported) and java.net.Socket.
@SuppressWarnings("InlineQualifiedName")
final class TcpListeners implements AutoCloseable {
  private final EventLoopGroup group;

  TcpListeners() {
    // CI must fail, not skip, where epoll is missing: ensureAvailability throws with the cause.
    Epoll.ensureAvailability();
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  }

  /** socket(2) + bind + listen; nobody accepts on it in this process. */
  static Socket listening() throws Exception {
    Socket socket = Socket.newSocketStream();
    socket.bind(new InetSocketAddress("127.0.0.1", 0));
    socket.listen(128);
    return socket;
  }

  /**
   * Wraps {@code fd} (a received listener) in an EpollServerSocketChannel, as the sidecar does,
   * connects a real client to {@code port} and returns once the channel accepted that very client.
   */
  void assertAcceptsConnections(int fd, int port) throws Exception {
    EpollServerSocketChannel server = new EpollServerSocketChannel(fd);
    assertThat(server.localAddress().getPort())
        .as("the received fd is the listener bound on %s", port)
        .isEqualTo(port);
    CompletableFuture<InetSocketAddress> accepted = new CompletableFuture<>();
    server
        .pipeline()
        .addLast(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                Channel child = (Channel) msg;
                accepted.complete((InetSocketAddress) child.remoteAddress());
                child.unsafe().closeForcibly();
              }
            });
    group.register(server).sync();
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", port)) {
      InetSocketAddress peer = accepted.get(5, TimeUnit.SECONDS);
      assertThat(peer.getPort())
          .as("the accepted connection is our client's")
          .isEqualTo(client.getLocalPort());
    } finally {
      server.close().sync();
    }
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
  }
}
