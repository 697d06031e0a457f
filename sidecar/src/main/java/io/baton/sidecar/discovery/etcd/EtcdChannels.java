package io.baton.sidecar.discovery.etcd;

import io.baton.sidecar.config.HostPort;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC channels of one watch to its etcd endpoints (plain text) and the one event loop thread
 * they share. A channel serves one connection attempt and is shut down when the attempt fails, so a
 * new attempt always dials afresh instead of waiting out the channel's own reconnect backoff (up to
 * two minutes in grpc-java), which would hide an etcd that is back.
 */
final class EtcdChannels implements AutoCloseable {

  /**
   * etcd's "require leader" metadata (clientv3.WithRequireLeader): a member cut off from the quorum
   * fails the Range and ends the watch stream with "no leader" instead of keeping a watch open on
   * which nothing will ever arrive.
   */
  private static final Metadata REQUIRE_LEADER = requireLeader();

  /**
   * A prefix of members is small, but grpc's default limit (4 MiB) would fail a large Range with
   * RESOURCE_EXHAUSTED forever; etcd's own client accepts 2 GiB.
   */
  private static final int MAX_INBOUND_MESSAGE_BYTES = 64 << 20;

  /** grpc-java does not ping more often (and etcd refuses pings more often than every 5 s). */
  private static final Duration KEEPALIVE_TIME = Duration.ofSeconds(10);

  private final EventLoopGroup loop;
  private final Duration keepAliveTimeout;
  private final List<ManagedChannel> open = new ArrayList<>();

  /**
   * @param threadName the event loop thread's name (a suffix is added)
   * @param keepAliveTimeout how long a keep-alive ping may go unanswered before the connection is
   *     declared dead: what finds an etcd that vanished without closing its sockets
   */
  EtcdChannels(String threadName, Duration keepAliveTimeout) {
    this.loop =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory(threadName, true), EpollIoHandler.newFactory());
    this.keepAliveTimeout = keepAliveTimeout;
  }

  synchronized ManagedChannel open(HostPort endpoint) {
    open.removeIf(ManagedChannel::isTerminated);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(endpoint.host(), endpoint.port())
            .eventLoopGroup(loop)
            .channelType(EpollSocketChannel.class)
            // The watch's callbacks only hand the response to its own thread: no executor needed.
            .directExecutor()
            .usePlaintext()
            .intercept(MetadataUtils.newAttachHeadersInterceptor(REQUIRE_LEADER))
            .keepAliveTime(KEEPALIVE_TIME.toNanos(), TimeUnit.NANOSECONDS)
            .keepAliveTimeout(keepAliveTimeout.toNanos(), TimeUnit.NANOSECONDS)
            .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
            .build();
    open.add(channel);
    return channel;
  }

  /** Shuts every channel down and waits (up to {@code timeout}) for them and the event loop. */
  void close(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ManagedChannel> channels;
    synchronized (this) {
      channels = List.copyOf(open);
      open.clear();
    }
    try {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
      }
      for (ManagedChannel channel : channels) {
        channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      loop.shutdownGracefully(0, 0, TimeUnit.NANOSECONDS)
          .await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(5));
  }

  boolean isTerminated() {
    return loop.isTerminated();
  }

  private static Metadata requireLeader() {
    Metadata metadata = new Metadata();
    metadata.put(Metadata.Key.of("hasleader", Metadata.ASCII_STRING_MARSHALLER), "true");
    return metadata;
  }
}
