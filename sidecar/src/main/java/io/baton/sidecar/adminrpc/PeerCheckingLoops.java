package io.baton.sidecar.adminrpc;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.util.concurrent.AbstractEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event loops of the admin server's accepted connections, which check each peer's credentials
 * (SO_PEERCRED) when it is registered, before anything reads from it. Registration is the one place
 * every accepted connection passes through that gRPC lets us reach: it offers no hook with the
 * channel in hand (grpc-java#2646), and Netty's domain server channel is final. A refused
 * connection is closed unregistered; Netty's acceptor logs the failed registration too.
 */
final class PeerCheckingLoops extends AbstractEventExecutorGroup implements EventLoopGroup {

  private static final Logger log = LoggerFactory.getLogger(PeerCheckingLoops.class);

  private static final IOException REFUSED =
      new IOException("admin.sock: caller refused (see the log line before)");

  private final EventLoopGroup loops;
  private final PeerPolicy policy;

  PeerCheckingLoops(EventLoopGroup loops, PeerPolicy policy) {
    this.loops = loops;
    this.policy = policy;
  }

  @Override
  public ChannelFuture register(Channel channel) {
    return refused(channel)
        ? new DefaultChannelPromise(channel, GlobalEventExecutor.INSTANCE).setFailure(REFUSED)
        : loops.register(channel);
  }

  @Override
  public ChannelFuture register(ChannelPromise promise) {
    return refused(promise.channel()) ? promise.setFailure(REFUSED) : loops.register(promise);
  }

  /** Closes {@code channel} (unregistered: nothing was read from it) if its peer may not call. */
  private boolean refused(Channel channel) {
    String refusal = refusalOf(channel);
    if (refusal == null) {
      return false;
    }
    log.warn("admin.sock: refused a caller: {}", refusal);
    channel.unsafe().closeForcibly();
    return true;
  }

  @Deprecated
  @Override
  public ChannelFuture register(Channel channel, ChannelPromise promise) {
    return register(promise);
  }

  private String refusalOf(Channel channel) {
    if (!(channel instanceof EpollDomainSocketChannel domain)) {
      return "a "
          + channel.getClass().getSimpleName()
          + " (expected a Unix domain socket connection)";
    }
    try {
      return policy.refusal(domain.peerCredentials().uid());
    } catch (IOException e) {
      return "its credentials cannot be read: " + e.getMessage();
    }
  }

  @Override
  public EventLoop next() {
    return loops.next();
  }

  @Override
  public Iterator<EventExecutor> iterator() {
    return loops.iterator();
  }

  // The loops belong to the caller: their life cycle is theirs to end, not the admin server's.

  @Override
  public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
    return loops.terminationFuture();
  }

  @Override
  public Future<?> terminationFuture() {
    return loops.terminationFuture();
  }

  @Override
  public boolean isShuttingDown() {
    return loops.isShuttingDown();
  }

  @Deprecated
  @Override
  public void shutdown() {
    // see above: not ours to end
  }

  @Override
  public boolean isShutdown() {
    return loops.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return loops.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return loops.awaitTermination(timeout, unit);
  }
}
