package io.baton.sidecar.tcp;

import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.listener.EpollHalfCloseRepair;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.migration.ConnectionMover;
import io.baton.sidecar.migration.Departure;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseCombiner;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client connection and its upstream connection, relaying bytes both ways on one event loop. Each
 * direction ends on its own (half-close: EOF on one side shuts the output of the other); the pair
 * closes when both directions have ended, or at once on an error or a reset.
 *
 * <p>During a drain with migration, a pair that still flows both ways moves to the successor: it
 * stops reading on both sides, waits until every byte it read has been written on, and sends both
 * sockets. Bytes that arrive meanwhile wait in the kernel's socket buffers, which move with the
 * sockets: nothing is held in this process at the moment of the move.
 */
final class TcpRelay {

  private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);

  /**
   * How long a pair may take to write out what it holds before a move. A peer that does not read
   * for that long keeps the pair here, drained as without migration.
   */
  static final Duration QUIESCE_TIMEOUT = Duration.ofSeconds(2);

  private enum State {
    /** Bytes flow both ways. */
    RELAYING,
    /** The client sent its EOF; the upstream's bytes still flow to it. */
    ONLY_UPSTREAM_TO_CLIENT,
    /** The upstream sent its EOF; the client's bytes still flow to it. */
    ONLY_CLIENT_TO_UPSTREAM,
    /** Moving: reads stopped both ways, waiting for the bytes read to be written, then sent. */
    QUIESCING,
    /** The successor holds both sockets: this process never touches them again. */
    MOVED,
    /** Both directions ended, or one side failed. */
    CLOSED
  }

  private final ListenerContext context;
  private final Channel client;
  private final Channel upstream;
  private final String upstreamEndpoint;
  private final Direction fromClientSide;
  private final Direction fromUpstreamSide;
  private State state = State.RELAYING;

  /**
   * @param upstreamEndpoint the {@code host:port} the upstream connection goes to, told to a
   *     successor that takes the pair over
   */
  TcpRelay(ListenerContext context, Channel client, Channel upstream, String upstreamEndpoint) {
    this.context = context;
    this.client = client;
    this.upstream = upstream;
    this.upstreamEndpoint = upstreamEndpoint;
    this.fromClientSide = new Direction(true);
    this.fromUpstreamSide = new Direction(false);
  }

  ChannelInboundHandlerAdapter clientSide() {
    return fromClientSide;
  }

  ChannelInboundHandlerAdapter upstreamSide() {
    return fromUpstreamSide;
  }

  /**
   * The drain began (or had begun when this pair was set up): move if the successor takes
   * connections and bytes still flow both ways. A half-closed pair finishes here.
   */
  void drainStarted() {
    ConnectionMover mover = context.drain().mover();
    if (state != State.RELAYING || !context.drain().isDraining() || !mover.canMove()) {
      return;
    }
    state = State.QUIESCING;
    client.config().setAutoRead(false);
    upstream.config().setAutoRead(false);
    ScheduledFuture<?> giveUp =
        client
            .eventLoop()
            .schedule(
                () ->
                    stopQuiescing(
                        "it did not write out what it holds within "
                            + QUIESCE_TIMEOUT.toMillis()
                            + " ms"),
                QUIESCE_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
    // An empty write completes once everything written before it is in the kernel.
    PromiseCombiner barriers = new PromiseCombiner(client.eventLoop());
    barriers.add(client.writeAndFlush(Unpooled.EMPTY_BUFFER));
    barriers.add(upstream.writeAndFlush(Unpooled.EMPTY_BUFFER));
    Promise<Void> flushed = client.eventLoop().newPromise();
    barriers.finish(flushed);
    flushed.addListener(
        f -> {
          giveUp.cancel(false);
          if (state != State.QUIESCING) {
            return; // something arrived meanwhile (an EOF, a reset): this pair is drained here
          }
          if (!f.isSuccess() || !holdsNothing(client) || !holdsNothing(upstream)) {
            stopQuiescing(f.isSuccess() ? "it still holds bytes" : "a write failed: " + f.cause());
            return;
          }
          Departure pair =
              new Departure(
                  MovedTcpPair.KIND,
                  context.name(),
                  List.of(client, upstream),
                  new byte[0],
                  upstreamEndpoint);
          mover.move(
              pair,
              context.metrics(),
              new ConnectionMover.Outcome() {
                @Override
                public void moved() {
                  state = State.MOVED;
                }

                @Override
                public void kept(Throwable cause) {
                  stopQuiescing("it could not be sent: " + cause);
                }
              });
        });
  }

  private static boolean holdsNothing(Channel ch) {
    ChannelOutboundBuffer unsent = ch.unsafe().outboundBuffer();
    return ch.isActive() && (unsent == null || unsent.totalPendingWriteBytes() == 0);
  }

  /** The move is off: relay on here until the pair ends or the drain times out. */
  private void stopQuiescing(String why) {
    if (state != State.QUIESCING) {
      return;
    }
    log.info(
        "listener {}: tcp connection {} <-> {} stays here ({}); draining it",
        context.name(),
        client.remoteAddress(),
        upstreamEndpoint,
        why);
    state = State.RELAYING;
    // Each side reads again once its peer can take more.
    client.config().setAutoRead(upstream.isWritable());
    upstream.config().setAutoRead(client.isWritable());
  }

  private boolean readsStopped() {
    return state == State.QUIESCING || state == State.MOVED;
  }

  private void inputEnded(boolean fromClient) {
    state =
        switch (state) {
          case RELAYING ->
              fromClient ? State.ONLY_UPSTREAM_TO_CLIENT : State.ONLY_CLIENT_TO_UPSTREAM;
          case ONLY_CLIENT_TO_UPSTREAM -> fromClient ? State.CLOSED : state;
          case ONLY_UPSTREAM_TO_CLIENT -> fromClient ? state : State.CLOSED;
          case QUIESCING, MOVED, CLOSED -> state;
        };
    if (state == State.CLOSED) {
      closeBoth();
    }
  }

  private void closeBoth() {
    if (state == State.MOVED) {
      return;
    }
    state = State.CLOSED;
    client.close();
    upstream.close();
  }

  /** Reads one side and writes to the other, with backpressure both ways. */
  private final class Direction extends ChannelInboundHandlerAdapter {
    private final Channel peer;
    private final boolean fromClient;

    Direction(boolean fromClient) {
      this.peer = fromClient ? upstream : client;
      this.fromClient = fromClient;
    }

    private Direction peerDirection() {
      return fromClient ? fromUpstreamSide : fromClientSide;
    }

    /** This side sent its EOF; the relay may still write to it (the other direction). */
    boolean eofReceived;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (state == State.MOVED || !peer.isActive()) {
        ReferenceCountUtil.release(msg);
        return;
      }
      // Epoll reads on a peer's FIN even with reads stopped: the pair is no longer quiet.
      stopQuiescing("the " + (fromClient ? "client" : "upstream") + " sent more bytes");
      writeToPeer(msg)
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  log.warn(
                      "tcp relay {} -> {}: write to the {} failed, closing both: {}",
                      client.remoteAddress(),
                      upstream.remoteAddress(),
                      fromClient ? "upstream" : "client",
                      f.cause().toString());
                  closeBoth();
                }
              });
      if (!peer.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    /**
     * Every write to the peer: once the peer sent its EOF, a flush that must wait for EPOLLOUT
     * needs {@link EpollHalfCloseRepair} first, whatever the write (data, or the empty write that
     * waits for the data before it).
     */
    private ChannelFuture writeToPeer(Object msg) {
      if (peerDirection().eofReceived) {
        EpollHalfCloseRepair.beforeWrite(peer);
      }
      return peer.writeAndFlush(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      // This side drained its writes: the peer may read again, unless it already sent its EOF
      // (nothing left to read, and asking epoll for reads on it would trip EpollHalfCloseRepair's
      // defect) or the pair is being moved.
      if (ctx.channel().isWritable() && !peerDirection().eofReceived && !readsStopped()) {
        peer.config().setAutoRead(true);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == DrainEvent.DRAIN_STARTED) {
        drainStarted();
        return;
      }
      if (evt instanceof ChannelInputShutdownEvent) {
        stopQuiescing("the " + (fromClient ? "client" : "upstream") + " ended its side");
        eofReceived = true;
        // EOF on this side: pass it on once what was read before it has been written.
        writeToPeer(Unpooled.EMPTY_BUFFER)
            .addListener(
                f -> {
                  if (peer instanceof DuplexChannel duplex && peer.isActive()) {
                    duplex.shutdownOutput();
                  }
                  inputEnded(fromClient);
                });
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (state == State.MOVED) {
        return;
      }
      // A closed (not half-closed) side, e.g. a reset: nothing more can flow either way.
      stopQuiescing("the " + (fromClient ? "client" : "upstream") + " closed");
      writeToPeer(Unpooled.EMPTY_BUFFER).addListener(f -> closeBoth());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.info(
          "tcp relay {} -> {}: {} side failed ({}), closing both",
          client.remoteAddress(),
          upstream.remoteAddress(),
          fromClient ? "client" : "upstream",
          cause.toString());
      closeBoth();
    }
  }
}
