package io.baton.sidecar.http1;

import io.baton.handoff.LiveConnection;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.migration.ConnectionMover;
import io.baton.sidecar.migration.Departure;
import io.netty.channel.Channel;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The move of one HTTP/1.1 client connection to the successor, while the process drains with
 * migration on: whether the connection may move at all, and the move itself with the pipelined
 * bytes read and not served. {@link ClientConnection} decides when it is at a request boundary.
 */
final class BoundaryMove {

  /** Logs as the handler did before this class was split from it: operators filter on that name. */
  private static final Logger log = LoggerFactory.getLogger(Http1ProxyHandler.class);

  private final ListenerContext context;
  private final Http1RequestDecoder decoder;

  BoundaryMove(ListenerContext context, Http1RequestDecoder decoder) {
    this.context = context;
    this.decoder = decoder;
  }

  /** How a connection on {@code ch} outlives its current response, as the drain stands now. */
  Persistence persistence(Channel ch) {
    if (!context.drain().isDraining()) {
      return Persistence.KEEP_ALIVE; // rolled back
    }
    // A TLS connection never moves (its state is in this process): it takes the drain path.
    return context.drain().mover().canMove() && ConnectionMover.canCarry(ch)
        ? Persistence.MOVE_AT_BOUNDARY
        : Persistence.CLOSE_AFTER_RESPONSE;
  }

  /**
   * Where connections go now; {@link ConnectionMover#canMove()} is false once the successor is gone
   * or takes nothing.
   */
  ConnectionMover mover() {
    return context.drain().mover();
  }

  /**
   * The pipelined bytes that travel with {@code ch}; null, with a log line, when there are more
   * than a move carries (then the connection is drained here).
   */
  byte[] carriedBytes(Channel ch) {
    byte[] unconsumed = decoder.unconsumedBytes();
    if (unconsumed.length > LiveConnection.MAX_UNCONSUMED_BYTES) {
      log.info(
          "listener {}: {} pipelined bytes from {} exceed what a move carries ({}): draining this"
              + " connection here",
          context.name(),
          unconsumed.length,
          ch.remoteAddress(),
          LiveConnection.MAX_UNCONSUMED_BYTES);
      return null;
    }
    return unconsumed;
  }

  /**
   * Sends {@code ch}, at a request boundary, with {@code unconsumed} by {@code mover}; call on its
   * event loop.
   */
  void send(ConnectionMover mover, Channel ch, byte[] unconsumed, ConnectionMover.Outcome outcome) {
    Departure departure =
        new Departure(MovedHttp1Connection.KIND, context.name(), List.of(ch), unconsumed, "");
    mover.move(departure, context.metrics(), outcome);
  }
}
