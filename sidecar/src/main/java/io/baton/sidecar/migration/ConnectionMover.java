package io.baton.sidecar.migration;

import io.baton.handoff.ConnectionSink;
import io.baton.handoff.LiveConnection;
import io.baton.sidecar.metrics.ListenerMetrics;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.PromiseCombiner;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends live connections of the outgoing process to its successor.
 *
 * <p>A move, on the connection's event loop: the channel leaves the event loop (EPOLL_CTL_DEL, so
 * this process's epoll never reports the socket again, whoever owns it next); its fd goes over
 * conn.sock; then this process closes its copy (close(2) only: the socket lives on in the
 * successor). If the send fails, the channel joins its event loop again and the caller drains it as
 * any other connection. A connection belongs to exactly one process at any time.
 */
public final class ConnectionMover {

  private static final Logger log = LoggerFactory.getLogger(ConnectionMover.class);

  /** Set on a channel that went to the successor: its close is a move, not an end. */
  public static final AttributeKey<Boolean> MOVED = AttributeKey.valueOf("baton.moved");

  /** Moves nothing: migration is off, or there is no successor that takes connections. */
  public static final ConnectionMover OFF = new ConnectionMover(ConnectionSink.NONE);

  private final ConnectionSink successor;

  public ConnectionMover(ConnectionSink successor) {
    this.successor = successor;
  }

  /** Connections sent so far. */
  public long sent() {
    return successor.sent();
  }

  /** False once the successor is gone or a send failed: drain instead. */
  public boolean canMove() {
    return successor.isOpen();
  }

  /** What the caller learns about its connection, on its event loop. */
  public interface Outcome {
    /** The connection is the successor's: never touch it again. */
    void moved();

    /** It could not be sent and is registered here again: drain it. */
    void kept(Throwable cause);
  }

  /**
   * Whether {@code ch} can be moved at all: not a TLS connection, whose keys and record state live
   * in this process's memory (OpenSSL's), not in the socket. A TLS connection is drained here.
   */
  public static boolean canCarry(Channel ch) {
    return ch.pipeline().get(SslHandler.class) == null;
  }

  /**
   * Moves {@code departure}: for HTTP/1.1 a client connection at a request boundary, nothing
   * unsent, with the bytes read from it and not served; for a TCP relay the client's connection and
   * the upstream's, neither reading, nothing left unsent in either direction (the successor relays
   * between them; the client and the upstream keep the same sockets). A TLS client connection is
   * kept. Call on the connection's event loop.
   */
  public void move(Departure departure, ListenerMetrics metrics, Outcome outcome) {
    List<Channel> channels = departure.channels();
    if (!canCarry(departure.client())) {
      keep(
          channels,
          departure.client().eventLoop(),
          outcome,
          new IllegalStateException("a TLS connection is drained, never moved"));
      return;
    }
    EventLoop loop = channels.get(0).eventLoop();
    // No autoRead change: leaving the event loop stops reading anyway, and one epoll_ctl per
    // connection is what a migration of 10,000 of them costs most.
    PromiseCombiner deregistered = new PromiseCombiner(loop);
    channels.forEach(ch -> deregistered.add(ch.deregister()));
    Promise<Void> all = loop.newPromise();
    deregistered.finish(all);
    all.addListener(
        done -> {
          if (!done.isSuccess()) {
            keep(channels, loop, outcome, done.cause());
            return;
          }
          LiveConnection connection;
          try {
            int[] fds =
                channels.stream().mapToInt(ch -> ((UnixChannel) ch).fd().intValue()).toArray();
            connection =
                new LiveConnection(
                    departure.listener(),
                    departure.kind().kind(),
                    fds,
                    departure.unconsumed(),
                    departure.upstreamEndpoint());
          } catch (IllegalArgumentException e) {
            keep(channels, loop, outcome, e);
            return;
          }
          successor
              .send(connection)
              .whenComplete(
                  (sent, error) ->
                      loop.execute(
                          () -> {
                            if (error != null) {
                              keep(channels, loop, outcome, error);
                              return;
                            }
                            metrics.connectionSentToSuccessor(departure.kind().metricLabel());
                            outcome.moved();
                            for (Channel ch : channels) {
                              ch.attr(MOVED).set(Boolean.TRUE);
                              // Not registered: close(2) of our copy only. No channelInactive, no
                              // FIN: the socket is theirs.
                              ch.close();
                            }
                          }));
        });
  }

  private static void keep(
      List<Channel> channels, EventLoop loop, Outcome outcome, Throwable cause) {
    log.debug("connection {} stays here: {}", channels.get(0), cause.toString());
    PromiseCombiner registered = new PromiseCombiner(loop);
    channels.forEach(
        ch -> registered.add(ch.isRegistered() ? ch.newSucceededFuture() : loop.register(ch)));
    Promise<Void> all = loop.newPromise();
    registered.finish(all);
    all.addListener(
        done -> {
          if (done.isSuccess()) {
            outcome.kept(cause);
          } else {
            log.warn(
                "connection {} could not be moved ({}) nor registered again ({}): closing it",
                channels.get(0),
                cause,
                done.cause().toString());
            channels.forEach(Channel::close);
          }
        });
  }
}
