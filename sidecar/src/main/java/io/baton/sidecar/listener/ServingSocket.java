package io.baton.sidecar.listener;

import io.baton.handoff.OwnershipClaim;
import io.baton.handoff.process.FileDescriptors;
import io.baton.sidecar.config.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One listening socket of this process, data or admin, and the client connections it accepted.
 *
 * <p>The socket is registered with accepting OFF ({@code AUTO_READ} false), whether bound fresh or
 * adopted from the predecessor's fd: connections may queue in the kernel's backlog, and {@link
 * #startAccepting()} takes them once the whole process can serve. {@link #stopAccepting()} leaves
 * the fd open, so the queue stays shared with the successor and a rollback can resume. With a
 * connection limit or short of file descriptors ({@link #acceptWithin}), accepting also pauses
 * while the limit is held, and new clients wait in the same queue.
 */
public final class ServingSocket {

  private static final Logger log = LoggerFactory.getLogger(ServingSocket.class);
  private static final AttributeKey<Boolean> ADOPTED = AttributeKey.valueOf("baton.adopted");

  private final String name;
  private final HostPort configuredAddress;
  private final String protocol;
  private final EpollServerSocketChannel channel;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final AtomicInteger open = new AtomicInteger();

  /** What every client connection gets, accepted here or moved here from the predecessor. */
  private ChannelHandler protocolInitializer;

  private ConnectionObserver observer = ConnectionObserver.NONE;
  private EventLoopGroup loops;

  /** Replaced only before accepting starts, on the listening channel's event loop. */
  private volatile AcceptGate gate;

  private ServingSocket(
      String name, HostPort configuredAddress, String protocol, EpollServerSocketChannel channel) {
    this.name = name;
    this.configuredAddress = configuredAddress;
    this.protocol = protocol;
    this.channel = channel;
    this.gate = new AcceptGate(channel, open, 0, FdBudget.failedAcceptsOnly(), gateObserver());
  }

  /**
   * At most {@code limit} client connections open at once on this socket (accepted here or moved
   * here), 0 for no limit, and no accept while the process is short of file descriptors ({@code
   * fds}); meanwhile clients wait in the kernel's queue. Call before {@link #startAccepting()}.
   */
  public void acceptWithin(int limit, FdBudget fds) {
    channel
        .eventLoop()
        .submit(
            () -> {
              if (gate.state() != AcceptGate.State.STOPPED) {
                throw new IllegalStateException(
                    "listener " + name + ": accept limits are set before accepting starts");
              }
              gate = new AcceptGate(channel, open, limit, fds, gateObserver());
            })
        .syncUninterruptibly();
  }

  private AcceptGate.Observer gateObserver() {
    return new AcceptGate.Observer() {
      @Override
      public void limitReached(int openNow) {
        observer.limitReached(ServingSocket.this, openNow);
      }

      @Override
      public void limitLifted(int openNow) {
        observer.limitLifted(ServingSocket.this, openNow);
      }

      @Override
      public void shortOfFds(int openNow, String budget, Throwable cause) {
        observer.shortOfFds(ServingSocket.this, openNow, budget, cause);
      }

      @Override
      public void fdsFreed(int openNow, String budget) {
        observer.fdsFreed(ServingSocket.this, openNow, budget);
      }
    };
  }

  /** Binds a fresh listening socket at {@code address}, not yet accepting. */
  public static ServingSocket bind(
      String name,
      HostPort address,
      String protocol,
      EventLoopGroup loops,
      ChannelHandler protocolInitializer,
      ConnectionObserver observer)
      throws IOException {
    EpollServerSocketChannel ch = new EpollServerSocketChannel();
    ServingSocket socket = new ServingSocket(name, address, protocol, ch);
    ChannelFuture f =
        socket
            .bootstrap(loops, protocolInitializer, observer)
            .bind(address.toSocketAddress())
            .awaitUninterruptibly();
    if (!f.isSuccess()) {
      ch.close();
      throw new IOException(
          "listener " + name + ": cannot bind " + address + ": " + f.cause().getMessage(),
          f.cause());
    }
    return socket;
  }

  /** Registers a listening fd received from the predecessor, not yet accepting. Never binds. */
  public static ServingSocket adopt(
      String name,
      HostPort address,
      String protocol,
      int fd,
      EventLoopGroup loops,
      ChannelHandler protocolInitializer,
      ConnectionObserver observer)
      throws IOException {
    EpollServerSocketChannel ch = new EpollServerSocketChannel(fd);
    ServingSocket socket = new ServingSocket(name, address, protocol, ch);
    ChannelFuture f =
        socket.bootstrap(loops, protocolInitializer, observer).register().awaitUninterruptibly();
    if (!f.isSuccess()) {
      ch.close();
      throw new IOException(
          "listener "
              + name
              + ": cannot register inherited fd "
              + fd
              + ": "
              + f.cause().getMessage(),
          f.cause());
    }
    return socket;
  }

  private ServerBootstrap bootstrap(
      EventLoopGroup loops, ChannelHandler protocolInitializer, ConnectionObserver observer) {
    this.loops = loops;
    this.observer = observer;
    this.protocolInitializer = protocolInitializer;
    return new ServerBootstrap()
        .group(loops)
        .channelFactory(() -> channel)
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .handler(new AcceptCounter())
        // No TCP_NODELAY child option: Netty's epoll channel config turns it on as it is built,
        // and setting it again cost one more setsockopt per accepted connection.
        .childHandler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel child) {
                track(child);
                child.pipeline().addLast(protocolInitializer);
              }
            });
  }

  /**
   * Counts each accepted connection on the listening channel's event loop, as the kernel hands it
   * over and before it is registered anywhere, so the gate closes at exactly the limit.
   */
  private final class AcceptCounter extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object child) {
      count((Channel) child);
      gate.accepted(((EpollSocketChannel) child).fd().intValue());
      ctx.fireChannelRead(child);
    }

    /**
     * A failed accept (the epoll channel reports it here) pauses this socket through the gate. Not
     * passed on: Netty's acceptor would pause for a second and then turn accepting back on by
     * itself, even in a process that has handed over meanwhile.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof IOException) {
        gate.acceptFailed(cause);
      } else {
        ctx.fireExceptionCaught(cause);
      }
    }
  }

  /**
   * One more open connection until {@code child} closes, even if it never gets registered: its
   * close future exists from the start.
   */
  private void count(Channel child) {
    open.incrementAndGet();
    child
        .closeFuture()
        .addListener(
            f -> {
              int nowOpen = open.decrementAndGet();
              AcceptGate g = gate;
              if (g.wantsWakeAfterClose(nowOpen)) {
                channel.eventLoop().execute(g::closed);
              }
            });
  }

  /**
   * Tracks {@code child} among this socket's connections until it closes. An accepted one was
   * counted when accepted; a moved one counts from here (it is never refused: the predecessor
   * accepted it), against the limit like any other.
   */
  private void track(Channel child) {
    connections.add(child);
    if (child.hasAttr(ADOPTED)) {
      count(child);
      observer.adopted(this);
    } else {
      observer.opened(this);
    }
    child.closeFuture().addListener(f -> observer.closed(this));
  }

  /**
   * Puts {@code claim} in front of {@code child}'s handlers (call before adding them): made just
   * before the connection's state first changes here. Nothing for {@link OwnershipClaim#NONE}.
   */
  public static void confirmOwnership(Channel child, OwnershipClaim claim) {
    if (claim != OwnershipClaim.NONE) {
      child.pipeline().addFirst(new OwnershipConfirmation(claim));
    }
  }

  /** The event loop a connection moved here should be served on. */
  public EventLoop nextEventLoop() {
    return loops.next();
  }

  /**
   * Registers a client connection the predecessor moved here with a pipeline of its own ({@code
   * handler}, e.g. a TCP relay that resumes): counted as this socket's, as if accepted here. Call
   * on {@code loop}.
   */
  public ChannelFuture adoptChannel(Channel child, EventLoop loop, ChannelHandler handler) {
    child.attr(ADOPTED).set(Boolean.TRUE);
    child
        .pipeline()
        .addLast(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                track(ch);
                ch.pipeline().addLast(handler);
              }
            });
    return loop.register(child);
  }

  /**
   * Serves a client connection the predecessor moved here, as if this socket had accepted it:
   * {@code unconsumed} (bytes the predecessor read and did not serve) goes through the pipeline
   * before anything read from the socket. {@code claim} is made just before the connection's state
   * first changes here ({@link OwnershipConfirmation}). Takes ownership of {@code fd}.
   */
  public void adoptConnection(int fd, byte[] unconsumed, OwnershipClaim claim) {
    adoptConnection(fd, unconsumed, protocolInitializer, claim);
  }

  /**
   * As {@link #adoptConnection(int, byte[], OwnershipClaim)}, served by {@code initializer} instead
   * of this socket's own.
   */
  public void adoptConnection(
      int fd, byte[] unconsumed, ChannelHandler initializer, OwnershipClaim claim) {
    // Built on the event loop that will serve it: the handoff thread that received the fd only
    // reads the next one, and the event loops share the work of thousands of arrivals.
    EventLoop loop = loops.next();
    loop.execute(
        () -> {
          EpollSocketChannel child;
          try {
            child = new EpollSocketChannel(fd);
          } catch (RuntimeException e) {
            log.warn(
                "listener {}: a connection moved from the predecessor is unusable (fd {}): {}",
                name,
                fd,
                e.toString());
            FileDescriptors.closeQuietly(fd);
            return;
          }
          confirmOwnership(child, claim);
          if (unconsumed.length > 0) {
            // First, before the confirmation: the bytes it fires from its place pass there.
            child.pipeline().addFirst(new UnconsumedBytes(unconsumed));
          }
          adoptChannel(child, loop, initializer)
              .addListener(
                  f -> {
                    if (!f.isSuccess()) {
                      child.unsafe().closeForcibly();
                      log.warn(
                          "listener {}: a connection moved from the predecessor could not be"
                              + " registered (fd {}): {}",
                          name,
                          fd,
                          f.cause().toString());
                    }
                  });
        });
  }

  public String name() {
    return name;
  }

  public HostPort configuredAddress() {
    return configuredAddress;
  }

  public String protocol() {
    return protocol;
  }

  /** The address the kernel bound, with the real port when the config said 0. */
  public InetSocketAddress boundAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** The listening fd, to pass to a successor. Stays owned by this socket. */
  public int fd() {
    return channel.fd().intValue();
  }

  public int openConnections() {
    return open.get();
  }

  public void startAccepting() {
    setAccepting(true);
  }

  public void stopAccepting() {
    setAccepting(false);
  }

  /** Runs on the event loop and returns once no further accept can happen (or resumes them). */
  private void setAccepting(boolean accepting) {
    channel
        .eventLoop()
        .submit(
            () -> {
              if (accepting) {
                gate.start();
              } else {
                gate.stop();
              }
            })
        .syncUninterruptibly();
  }

  /**
   * Runs {@code action} on the event loop of every open client connection: one task per event loop,
   * not per connection (a drain of 10,000 connections would otherwise wake the loops 10,000 times).
   */
  public void forEachConnection(Consumer<Channel> action) {
    Map<EventLoop, List<Channel>> byLoop = new HashMap<>();
    for (Channel c : connections) {
      byLoop.computeIfAbsent(c.eventLoop(), l -> new ArrayList<>()).add(c);
    }
    byLoop.forEach((loop, channels) -> loop.execute(() -> channels.forEach(action)));
  }

  public void closeConnections() {
    connections.close().awaitUninterruptibly();
  }

  /** Closes this process's copy of the listening fd; a successor's copy keeps the socket alive. */
  public void closeListener() {
    channel.close().awaitUninterruptibly();
  }
}
