package io.baton.sidecar.adminrpc;

import io.baton.proto.admin.v1.AbortRequest;
import io.baton.proto.admin.v1.BatonAdminGrpc;
import io.baton.proto.admin.v1.CommitRequest;
import io.baton.proto.admin.v1.DrainReply;
import io.baton.proto.admin.v1.DrainRequest;
import io.baton.proto.admin.v1.HandoffEvent;
import io.baton.proto.admin.v1.HoldReply;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.proto.admin.v1.StatusRequest;
import io.baton.proto.admin.v1.UpgradeReply;
import io.baton.proto.admin.v1.UpgradeRequest;
import io.baton.proto.admin.v1.WatchHandoffRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The {@code baton} CLI's connection to the active process's {@code admin.sock}. */
public final class AdminClient implements AutoCloseable {

  private final Path socket;
  private final EventLoopGroup loop;
  private final ManagedChannel channel;
  private final Duration callTimeout;

  private AdminClient(
      Path socket, EventLoopGroup loop, ManagedChannel channel, Duration callTimeout) {
    this.socket = socket;
    this.loop = loop;
    this.channel = channel;
    this.callTimeout = callTimeout;
  }

  /**
   * A client for {@code runDir/admin.sock}; fails with {@link AdminUnavailableException} if there
   * is no such socket (no active Baton in that run directory).
   */
  public static AdminClient connect(Path runDir, Duration callTimeout) {
    Path socket = runDir.resolve(AdminRpcServer.SOCKET_NAME);
    // lstat, not access(2): access checks the real uid without capabilities, the kernel's connect
    // does not.
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      if (Files.isDirectory(runDir, LinkOption.NOFOLLOW_LINKS) && !Files.isExecutable(runDir)) {
        throw new AdminUnavailableException(
            runDir
                + ": permission denied (the run directory and admin.sock are for the uid Baton"
                + " runs as, and root)");
      }
      throw new AdminUnavailableException(
          socket
              + ": no such socket (expected the admin socket of an active Baton in "
              + runDir
              + ")");
    }
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(loop)
            .withOption(
                ChannelOption.SO_KEEPALIVE,
                null) // see AdminRpcServer: a Unix socket has no keep-alive
            .usePlaintext()
            .build();
    return new AdminClient(socket, loop, channel, callTimeout);
  }

  public StatusReply status() {
    return call(() -> stub().status(StatusRequest.getDefaultInstance()));
  }

  public UpgradeReply upgrade(String jar, String config, boolean hold) {
    return call(
        () ->
            stub()
                .upgrade(
                    UpgradeRequest.newBuilder()
                        .setJar(jar)
                        .setConfig(config)
                        .setHold(hold)
                        .build()));
  }

  public HoldReply commit() {
    return call(() -> stub().commit(CommitRequest.getDefaultInstance()));
  }

  public HoldReply abort(String reason) {
    return call(() -> stub().abort(AbortRequest.newBuilder().setReason(reason).build()));
  }

  public DrainReply drain() {
    return call(() -> stub().drain(DrainRequest.getDefaultInstance()));
  }

  /** Calls {@code each} for every event until the process stops (the stream ends). */
  public void watch(Consumer<HandoffEvent> each) {
    call(
        () -> {
          Iterator<HandoffEvent> events =
              BatonAdminGrpc.newBlockingStub(channel)
                  .watchHandoff(WatchHandoffRequest.getDefaultInstance());
          events.forEachRemaining(each);
          return null;
        });
  }

  private BatonAdminGrpc.BatonAdminBlockingStub stub() {
    return BatonAdminGrpc.newBlockingStub(channel)
        .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw new AdminUnavailableException(socket + ": " + describe(e), e);
    }
  }

  private static String describe(StatusRuntimeException e) {
    Throwable cause = e.getCause();
    String why = e.getStatus().getDescription() != null ? e.getStatus().getDescription() : "";
    if (cause != null && cause.getMessage() != null) {
      why = why.isEmpty() ? cause.getMessage() : why + " (" + cause.getMessage() + ")";
    }
    return e.getStatus().getCode() + (why.isEmpty() ? "" : ": " + why);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
