package io.baton.sidecar.h2c;

import io.netty.channel.ChannelHandler;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * How an HTTP/2 connection (to a client or to a member) flushes: many streams share it, and each
 * flushes its own frames as its other hop delivers them, from that hop's read. Flushed one by one,
 * every HEADERS and DATA frame was a writev of its own (3 per request through Baton, against 0.5
 * for HAProxy, issue 17). Gathered, the frames of every stream written in one turn of the event
 * loop leave in one writev at its end.
 */
public final class Http2Flushing {

  /** Past this many flushes in one turn, one goes out anyway (Netty's default). */
  private static final int MOST_GATHERED =
      FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES;

  private Http2Flushing() {}

  /**
   * A handler for the connection's pipeline, in front of (nearer the socket than) the HTTP/2 codec;
   * one per connection.
   */
  public static ChannelHandler gatheredPerLoopTurn() {
    // true: also gather flushes that happen outside this connection's own read (the responses
    // and requests written from the other hop's read), by flushing from a task at the turn's end.
    return new FlushConsolidationHandler(MOST_GATHERED, true);
  }
}
