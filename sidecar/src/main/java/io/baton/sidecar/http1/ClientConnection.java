package io.baton.sidecar.http1;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.migration.ConnectionMover;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of one HTTP/1.1 connection: one {@link Exchange} at a time, its {@link
 * ConnectionState}, and what follows an exchange by its {@link Persistence}: the next pipelined
 * request (held as raw bytes by the {@link Http1RequestDecoder} meanwhile), the move to the
 * successor at a request boundary ({@link BoundaryMove}), or the graceful close ({@link
 * GracefulClose}). Runs on the connection's event loop; {@link Http1ProxyHandler} feeds it.
 */
final class ClientConnection {

  /** Logs as the handler did before this class was split from it: operators filter on that name. */
  private static final Logger log = LoggerFactory.getLogger(Http1ProxyHandler.class);

  private final ChannelHandlerContext ctx;
  private final ListenerContext context;
  private final Http1RequestDecoder decoder;
  private final Http1ResponseEncoder encoder;
  private final BoundaryMove move;
  private final RequestHead requestHead;
  private final UpstreamFailures failures;
  private final ResponseTimer responseTimer;
  private final BooleanSupplier pipelinedBytesWaiting;
  private ConnectionState state = ConnectionState.IDLE;
  private Persistence persistence = Persistence.KEEP_ALIVE;
  private Exchange exchange;

  ClientConnection(
      ChannelHandlerContext ctx,
      ListenerContext context,
      Http1RequestDecoder decoder,
      Http1ResponseEncoder encoder) {
    this.ctx = ctx;
    this.context = context;
    this.decoder = decoder;
    this.encoder = encoder;
    this.move = new BoundaryMove(context, decoder);
    this.requestHead = new RequestHead(ctx.channel()::remoteAddress);
    this.failures = new UpstreamFailures(context, this);
    this.responseTimer =
        new ResponseTimer(ctx.executor(), this::awaitedResponseDeadline, this::responseTimedOut);
    this.pipelinedBytesWaiting = decoder::hasUnconsumedBytes;
    // Bytes of a next request arriving while one is served: stop reading until it is answered.
    decoder.listener(() -> setReading(false));
    if (context.drain().isDraining()) {
      persistence = drainPersistence();
    }
  }

  ChannelHandlerContext ctx() {
    return ctx;
  }

  ListenerContext context() {
    return context;
  }

  ConnectionState state() {
    return state;
  }

  Persistence persistence() {
    return persistence;
  }

  BooleanSupplier pipelinedBytesWaiting() {
    return pipelinedBytesWaiting;
  }

  /** The exchange in progress; null between requests. */
  Exchange exchange() {
    return exchange;
  }

  /**
   * @throws IllegalStateException if the connection cannot move from its state to {@code next}
   */
  void moveTo(ConnectionState next) {
    state = state.moveTo(next);
  }

  void setReading(boolean reading) {
    ctx.channel().config().setAutoRead(reading);
  }

  /** The response about to be written answers a HEAD request, or not. */
  void answeringHead(boolean head) {
    encoder.answeringHead(head);
  }

  /** The request is sent: its response is awaited for {@code timeoutNanos}. */
  void awaitResponse(long timeoutNanos) {
    responseTimer.arm(timeoutNanos);
  }

  // ---- from the client ----

  /** The process started to drain. */
  void drainStarted() {
    // An idle connection is never closed here: a request may be on the wire right now. It moves
    // (the bytes on the wire follow it in the socket), or its next answer says close.
    persistence = drainPersistence();
    if (persistence == Persistence.MOVE_AT_BOUNDARY) {
      moveIfAtBoundary();
    }
  }

  private Persistence drainPersistence() {
    return move.persistence(ctx.channel());
  }

  /** What the decoder read from the client. */
  void read(Object msg) {
    if (!(msg instanceof HttpObject object)
        || state == ConnectionState.CLOSING
        || state == ConnectionState.MOVING) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (exchange != null && !exchange.requestComplete && msg instanceof HttpContent content) {
      exchange.forwardBody(content);
      return;
    }
    if (exchange == null) {
      begin(object);
      return;
    }
    // The decoder holds the next request until this one is answered; nothing else can come here.
    log.warn(
        "listener {}: {} from {} while a request is being answered (expected nothing); dropped",
        context.name(),
        object.getClass().getSimpleName(),
        ctx.channel().remoteAddress());
    ReferenceCountUtil.release(msg);
  }

  private void begin(HttpObject msg) {
    if (!(msg instanceof HttpRequest request)) {
      ReferenceCountUtil.release(msg); // the rest of a request we already answered
      return;
    }
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      log.warn(
          "listener {}: malformed request from {}: {}",
          context.name(),
          ctx.channel().remoteAddress(),
          cause == null ? "unknown" : cause.getMessage());
      ReferenceCountUtil.release(request);
      context.metrics().requestStarted();
      exchange = new Exchange(this, failures, request, false);
      exchange.requestComplete = true;
      exchange.answer(HttpResponseStatus.BAD_REQUEST, "malformed request\n", true);
      return;
    }
    context.metrics().requestStarted();
    exchange = new Exchange(this, failures, request, HttpUtil.isKeepAlive(request));
    exchange.requestComplete = request instanceof LastHttpContent;
    requestHead.prepareForUpstream(request);
    HostPort endpoint = exchange.upstreams.first().orElse(null);
    if (endpoint == null) {
      failures.failBeforeResponse(
          exchange,
          UpstreamErrorReason.NO_ENDPOINT,
          HttpResponseStatus.SERVICE_UNAVAILABLE,
          "no endpoint in cluster " + context.cluster().name());
      return;
    }
    sendTo(endpoint);
  }

  /**
   * Sends the current exchange's request to {@code endpoint}: on a pooled connection, or on a new
   * one.
   */
  void sendTo(HostPort endpoint) {
    UpstreamOpener.open(context, ctx.channel().eventLoop(), endpoint, exchange);
  }

  /** The client can take more of the response. */
  void clientWritable() {
    Exchange current = exchange;
    if (current != null && ctx.channel().isWritable()) {
      current.clientWritable();
    }
  }

  /** The client's connection closed. */
  void inactive() {
    Exchange current = exchange;
    exchange = null;
    responseTimer.cancel();
    if (current != null) {
      current.abandon();
    }
  }

  // ---- the response timeout ----

  private long awaitedResponseDeadline() {
    Exchange current = exchange;
    return current == null || state != ConnectionState.AWAITING_RESPONSE
        ? ResponseTimer.NOTHING_AWAITED
        : current.responseDeadlineNanos;
  }

  private void responseTimedOut() {
    failures.responseTimedOut(exchange);
  }

  // ---- after an exchange ----

  /**
   * The exchange's response is written ({@code success}) or failed: close, or go on.
   *
   * @param closeAfter whether the response said {@code Connection: close}
   */
  void exchangeEnded(boolean success, boolean closeAfter) {
    exchange = null;
    if (!success) {
      ctx.close();
    } else if (closeAfter) {
      moveTo(ConnectionState.CLOSING);
      GracefulClose.start(ctx);
    } else {
      moveTo(ConnectionState.IDLE);
      if (persistence == Persistence.MOVE_AT_BOUNDARY && moveIfAtBoundary()) {
        return;
      }
      serveNext();
    }
  }

  /** The exchange failed with its response begun: the client learns it by the close. */
  void abort() {
    exchange = null;
    ctx.close();
  }

  /** The next pipelined request, or back to reading the socket. */
  private void serveNext() {
    if (decoder.resume()) {
      // Feed the decoder again, later: this may run inside its own decode (a response written
      // synchronously), and ByteToMessageDecoder must not be re-entered.
      ctx.executor().execute(this::decodeHeldBytes);
    } else {
      setReading(true);
    }
  }

  private void decodeHeldBytes() {
    if (state != ConnectionState.IDLE || exchange != null || !ctx.channel().isActive()) {
      return;
    }
    ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
    ctx.pipeline().fireChannelReadComplete();
    if (exchange == null && state == ConnectionState.IDLE) {
      setReading(true); // only part of a request was here: read the rest
    }
  }

  /**
   * Whether this connection can move now: between requests, nothing decoded of the next one,
   * nothing unsent. Pipelined bytes may be waiting: they travel with it.
   */
  private boolean atMigrationBoundary() {
    if (state != ConnectionState.IDLE
        || exchange != null
        || !decoder.atRequestBoundary()
        || !ctx.channel().isActive()) {
      return false;
    }
    ChannelOutboundBuffer unsent = ctx.channel().unsafe().outboundBuffer();
    return unsent == null || unsent.totalPendingWriteBytes() == 0;
  }

  /** Hands the connection to the successor if it is at a boundary; false if it stays here. */
  private boolean moveIfAtBoundary() {
    ConnectionMover mover = move.mover();
    if (!mover.canMove()) {
      persistence = drainPersistence(); // the successor is gone or takes nothing: drain here
      return false;
    }
    if (!atMigrationBoundary()) {
      return false; // moves when the request in progress is answered
    }
    byte[] unconsumed = move.carriedBytes(ctx.channel());
    if (unconsumed == null) {
      persistence = Persistence.CLOSE_AFTER_RESPONSE;
      return false;
    }
    moveTo(ConnectionState.MOVING);
    responseTimer.cancel();
    move.send(
        mover,
        ctx.channel(),
        unconsumed,
        new ConnectionMover.Outcome() {
          @Override
          public void moved() {
            // Stays MOVING: the channel closes without channelInactive; the successor serves it.
          }

          @Override
          public void kept(Throwable cause) {
            log.info(
                "listener {}: connection from {} stays here ({}); draining it",
                context.name(),
                ctx.channel().remoteAddress(),
                cause.toString());
            moveTo(ConnectionState.IDLE);
            persistence = drainPersistence().withoutMove();
            serveNext();
          }
        });
    return true;
  }
}
