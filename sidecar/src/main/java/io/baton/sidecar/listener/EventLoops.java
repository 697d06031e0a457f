package io.baton.sidecar.listener;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.TimeUnit;

/** The epoll event loops of the data plane and admin. Linux only, checked once at start-up. */
public final class EventLoops implements AutoCloseable {

  private final EventLoopGroup group;

  private EventLoops(int threads) {
    group =
        new MultiThreadIoEventLoopGroup(
            threads, new DefaultThreadFactory("baton-io"), EpollIoHandler.newFactory());
  }

  /**
   * @throws IllegalStateException naming the cause when the native epoll transport cannot load (not
   *     Linux, not x86_64, or the native library failed)
   */
  public static EventLoops start(int threads) {
    if (!Epoll.isAvailable()) {
      throw new IllegalStateException(
          "Netty's native epoll transport is unavailable (Baton runs on Linux x86_64 only): "
              + Epoll.unavailabilityCause(),
          Epoll.unavailabilityCause());
    }
    return new EventLoops(threads);
  }

  public EventLoopGroup group() {
    return group;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
