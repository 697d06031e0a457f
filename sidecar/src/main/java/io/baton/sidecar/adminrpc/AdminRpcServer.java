package io.baton.sidecar.adminrpc;

import io.baton.handoff.SocketFile;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the admin API on a socket of this process ({@code admin.sock.<instance>} in the run
 * directory), published as {@code admin.sock} while this process is the active one.
 */
public final class AdminRpcServer implements AutoCloseable {

  public static final String SOCKET_NAME = "admin.sock";
  private static final Logger log = LoggerFactory.getLogger(AdminRpcServer.class);

  private final Server server;
  private final SocketFile file;
  private final Path publishedName;

  private AdminRpcServer(Server server, SocketFile file, Path publishedName) {
    this.server = server;
    this.file = file;
    this.publishedName = publishedName;
  }

  /**
   * Binds {@code bound} (this process's own name, from {@link
   * io.baton.handoff.process.Handoff#ownSocketPath}) and serves; not yet published as {@code
   * admin.sock}. The caller's {@code loops} run it.
   */
  public static AdminRpcServer start(
      Path bound, AdminTarget target, PeerPolicy policy, EventLoopGroup loops) throws IOException {
    Server server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(bound.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(loops)
            .workerEventLoopGroup(new PeerCheckingLoops(loops, policy))
            // grpc asks for TCP keep-alive on every connection; a Unix socket has none (null: unset
            // it,
            // or Netty warns on each connection)
            .withChildOption(ChannelOption.SO_KEEPALIVE, null)
            .addService(new AdminService(target))
            .build();
    try {
      server.start();
      return new AdminRpcServer(server, SocketFile.bound(bound), bound.resolveSibling(SOCKET_NAME));
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      throw new IOException(
          SOCKET_NAME + ": cannot serve the admin API at " + bound + ": " + e.getMessage(), e);
    }
  }

  /** This process is the active one: {@code admin.sock} names its socket from now on. */
  public void publish() {
    try {
      file.publishAs(publishedName);
      log.info("{} is now served by this process", publishedName);
    } catch (IOException e) {
      log.error(
          "{}: cannot publish {} under that name: {}; `baton` commands cannot reach this process",
          SOCKET_NAME,
          file.boundPath(),
          e.toString());
    }
  }

  /**
   * Stops serving. {@code successorTookOver}: the name is the successor's now (see {@link
   * SocketFile#deleteBoundOnly()}).
   */
  public void close(boolean successorTookOver) {
    server.shutdown();
    try {
      if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    if (successorTookOver) {
      file.deleteBoundOnly();
    } else {
      file.deleteIfStillOurs();
    }
  }

  @Override
  public void close() {
    close(false);
  }
}
