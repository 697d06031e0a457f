package io.baton.sidecar.http1;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.migration.ConnectionMover;
import io.baton.sidecar.upstream.HopByHop;
import io.baton.sidecar.upstream.Http1UpstreamHandler;
import io.baton.sidecar.upstream.UpstreamChoice;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of an HTTP/1.1 listener: each request goes to an upstream connection
 * (pooled keep-alive, same event loop), bodies stream both ways with backpressure, pipelined
 * requests wait their turn as raw bytes in the {@link Http1RequestDecoder}. While the process
 * drains with migration on, the connection moves to the successor at its next request boundary,
 * with those bytes. Everything runs on the connection's event loop.
 *
 * <p>This handler owns the client side of the protocol: the exchange state machine, keep-alive,
 * pipelining and the graceful close. The rest is delegated, one concern each: {@link
 * io.baton.sidecar.upstream.UpstreamChoice} (which member, which next after a failed connect;
 * shared with HTTP/2 and TCP), {@link UpstreamOpener} (pooled connection, new connection or h2c
 * stream), {@link ResponseTimer}, {@link BoundaryMove} (the move to the successor) and {@link
 * ErrorResponses}. Its place in the pipeline: after {@link Http1RequestDecoder}, {@link
 * Http1ResponseEncoder} and Netty's {@code HttpServerExpectContinueHandler}, last.
 */
final class Http1ProxyHandler extends ChannelDuplexHandler implements Http1UpstreamHandler.Owner {

  private static final Logger log = LoggerFactory.getLogger(Http1ProxyHandler.class);
  private static final long CLOSE_GRACE_SECONDS = 5;
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");

  /** Where the connection is between requests. */
  enum State {
    /** At a request boundary with no unsent output: nothing in flight, nothing owed. */
    IDLE,
    /** A request arrived; its upstream connection is being opened. Not reading the client. */
    CONNECTING,
    /** The request body flows to the upstream. */
    STREAMING_REQUEST,
    /** The request is sent; waiting for the response to start (the request timeout runs). */
    AWAITING_RESPONSE,
    /** The response flows to the client. */
    STREAMING_RESPONSE,
    /** The last response said {@code Connection: close}; our output is shut, waiting for EOF. */
    CLOSING,
    /** Being sent to the successor, or sent: nothing here touches the connection any more. */
    MOVING
  }

  /** Whether this connection outlives its current response, and where. */
  enum Persistence {
    KEEP_ALIVE,
    /**
     * The process drains and the successor takes connections: move at the next request boundary.
     */
    MOVE_AT_BOUNDARY,
    /** The process drains: the next response that can say so carries {@code Connection: close}. */
    CLOSE_AFTER_RESPONSE
  }

  private final ListenerContext context;
  private final Http1RequestDecoder decoder;
  private final Http1ResponseEncoder encoder;
  private final BoundaryMove move;
  private ChannelHandlerContext ctx;
  private State state = State.IDLE;
  private Persistence persistence = Persistence.KEEP_ALIVE;
  private Exchange exchange;

  /**
   * The client's address as X-Forwarded-For spells it; the same for every request of the
   * connection.
   */
  private String clientIp;

  private ResponseTimer responseTimer;

  Http1ProxyHandler(
      ListenerContext context, Http1RequestDecoder decoder, Http1ResponseEncoder encoder) {
    this.context = context;
    this.decoder = decoder;
    this.encoder = encoder;
    this.move = new BoundaryMove(context, decoder);
  }

  State state() {
    return state;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.responseTimer =
        new ResponseTimer(ctx.executor(), this::awaitedResponseDeadline, this::responseTimedOut);
    // Bytes of a next request arriving while one is served: stop reading until it is answered.
    decoder.listener(() -> setReading(false));
    if (context.drain().isDraining()) {
      persistence = drainPersistence();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == DrainEvent.DRAIN_STARTED) {
      // An idle connection is never closed here: a request may be on the wire right now. It moves
      // (the bytes on the wire follow it in the socket), or its next answer says close.
      persistence = drainPersistence();
      if (persistence == Persistence.MOVE_AT_BOUNDARY) {
        moveIfAtBoundary();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  private Persistence drainPersistence() {
    return move.persistence(ctx.channel());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpObject object) || state == State.CLOSING || state == State.MOVING) {
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
      exchange = new Exchange(request, false);
      exchange.requestComplete = true;
      respondWithError(HttpResponseStatus.BAD_REQUEST, "malformed request\n", true);
      return;
    }
    context.metrics().requestStarted();
    exchange = new Exchange(request, HttpUtil.isKeepAlive(request));
    exchange.requestComplete = request instanceof LastHttpContent;
    prepareForUpstream(request);
    HostPort endpoint = exchange.upstreams.first().orElse(null);
    if (endpoint == null) {
      exchange.failBeforeResponse(
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
  private void sendTo(HostPort endpoint) {
    UpstreamOpener.open(context, ctx.channel().eventLoop(), endpoint, exchange);
  }

  /**
   * Nothing of the request was sent: another member that this request has not tried takes it
   * (nginx's {@code proxy_next_upstream error timeout}); when none is left, 502. A cluster of one
   * member answers 502 at once, as before members could change.
   *
   * @param record whether to count the failure against the member (the h2c pool counted it already)
   */
  private void connectFailed(
      Exchange connecting, UpstreamErrorReason reason, String detail, boolean record) {
    UpstreamChoice upstreams = connecting.upstreams;
    if (record) {
      upstreams.recordFailure();
    }
    upstreams.markUnreachable();
    HostPort next = upstreams.nextReachable().orElse(null);
    if (next == null) {
      connecting.failBeforeResponse(reason, HttpResponseStatus.BAD_GATEWAY, detail);
      return;
    }
    context.clusterMetrics().upstreamError(reason);
    log.warn(
        "listener {} cluster {} endpoint {}: {} ({}), trying {}",
        context.name(),
        context.cluster().name(),
        upstreams.current(),
        reason.label(),
        detail,
        next);
    upstreams.retryOn(next);
    sendTo(next);
  }

  private void prepareForUpstream(HttpRequest request) {
    boolean chunked = HopByHop.strip(request.headers());
    if (chunked) {
      request.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    if (clientIp == null && ctx.channel().remoteAddress() instanceof InetSocketAddress client) {
      clientIp = client.getAddress().getHostAddress();
    }
    if (clientIp != null) {
      String prior = request.headers().get(X_FORWARDED_FOR);
      request.headers().set(X_FORWARDED_FOR, prior == null ? clientIp : prior + ", " + clientIp);
    }
  }

  private long awaitedResponseDeadline() {
    Exchange current = exchange;
    return current == null || state != State.AWAITING_RESPONSE
        ? ResponseTimer.NOTHING_AWAITED
        : current.responseDeadlineNanos;
  }

  private void responseTimedOut() {
    Exchange current = exchange;
    long timeoutMillis = context.clusterConfig().requestTimeout().toMillis();
    current.upstreams.recordFailure();
    current.failBeforeResponse(
        UpstreamErrorReason.RESPONSE_TIMEOUT,
        HttpResponseStatus.GATEWAY_TIMEOUT,
        "upstream " + current.endpoint() + " did not answer within " + timeoutMillis + " ms");
  }

  // ---- from the upstream connection (same event loop) ----

  @Override
  public void upstreamRead(Channel upstream, Object msg) {
    Exchange current = exchange;
    if (current == null || current.upstream != upstream) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL
          && response.status().code() != 101) {
        // Expect was answered here already; an interim response from upstream carries nothing for
        // the client.
        current.skipInterimLast = true;
        ReferenceCountUtil.release(msg);
        return;
      }
      current.startResponse(response);
    }
    if (msg instanceof HttpContent content) {
      if (current.skipInterimLast) {
        current.skipInterimLast = !(content instanceof LastHttpContent);
        content.release();
        return;
      }
      current.forwardResponseBody(content);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void upstreamClosed(Channel upstream) {
    Exchange current = exchange;
    if (current == null || current.upstream != upstream || current.responseComplete) {
      return;
    }
    // A pooled connection the upstream closed while reusing it (its idle timeout was shorter than
    // ours) says nothing bad about the member: counting it would skip a healthy member.
    // An h2c stream that ends early is the stream's matter (a refusal, a reset), and the h2c pool
    // counts the member's connect failures itself.
    if (!current.responseStarted && !current.reusedConnection && !current.singleUse) {
      current.upstreams.recordFailure();
    }
    current.upstreamLost("upstream " + current.endpoint() + " closed the connection");
  }

  @Override
  public void upstreamWritabilityChanged(Channel upstream) {
    Exchange current = exchange;
    if (current != null && current.upstream == upstream && state == State.STREAMING_REQUEST) {
      setReading(upstream.isWritable());
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    Exchange current = exchange;
    if (current != null && current.upstream != null && ctx.channel().isWritable()) {
      current.upstream.config().setAutoRead(true);
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Exchange current = exchange;
    exchange = null;
    responseTimer.cancel();
    if (current != null) {
      current.abandon();
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug(
        "listener {}: client connection {} failed: {}",
        context.name(),
        ctx.channel().remoteAddress(),
        cause.toString());
    ctx.close();
  }

  private void setReading(boolean reading) {
    ctx.channel().config().setAutoRead(reading);
  }

  /** After a response: move, or the next pipelined request, or back to reading the socket. */
  private void exchangeEnded() {
    exchange = null;
    state = State.IDLE;
    if (persistence == Persistence.MOVE_AT_BOUNDARY && moveIfAtBoundary()) {
      return;
    }
    serveNext();
  }

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
    if (state != State.IDLE || exchange != null || !ctx.channel().isActive()) {
      return;
    }
    ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
    ctx.pipeline().fireChannelReadComplete();
    if (exchange == null && state == State.IDLE) {
      setReading(true); // only part of a request was here: read the rest
    }
  }

  /**
   * Whether this connection can move now: between requests, nothing decoded of the next one,
   * nothing unsent. Pipelined bytes may be waiting: they travel with it.
   */
  boolean atMigrationBoundary() {
    if (state != State.IDLE
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
    state = State.MOVING;
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
            state = State.IDLE;
            persistence =
                drainPersistence() == Persistence.KEEP_ALIVE
                    ? Persistence.KEEP_ALIVE
                    : Persistence.CLOSE_AFTER_RESPONSE;
            serveNext();
          }
        });
    return true;
  }

  /**
   * The last response said {@code Connection: close}: shut our output (FIN after the response),
   * read and discard until the client closes, so that unread input cannot turn our close into a
   * reset that destroys the response in the client's buffer.
   */
  private void closeGracefully() {
    state = State.CLOSING;
    Channel ch = ctx.channel();
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls != null && ch instanceof DuplexChannel duplex) {
      // TLS: close_notify first, so that the client reads a clean end (OpenSSL 3 calls a FIN
      // without it an "unexpected eof"), then the FIN.
      tls.closeOutbound()
          .addListener(f -> duplex.shutdownOutput().addListener(g -> setReading(true)));
      ch.eventLoop().schedule(() -> ch.close(), CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
    } else if (ch instanceof DuplexChannel duplex) {
      duplex.shutdownOutput().addListener(f -> setReading(true));
      ch.eventLoop().schedule(() -> ch.close(), CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
    } else {
      ch.close();
    }
  }

  private void respondWithError(HttpResponseStatus status, String body, boolean forceClose) {
    Exchange current = exchange;
    boolean close = forceClose || current.mustCloseAfterResponse();
    current.closeAfter = close;
    FullHttpResponse response = ErrorResponses.of(status, body, close, context);
    current.status = status.code();
    current.responseStarted = true;
    current.responseComplete = true;
    state = State.STREAMING_RESPONSE;
    encoder.answeringHead(current.head);
    ctx.writeAndFlush(response).addListener(f -> current.responseWritten(f.isSuccess()));
  }

  /** One request and its response. */
  private final class Exchange implements UpstreamOpener.Attempt {
    final HttpRequest request;
    final boolean clientKeepAlive;
    final boolean head;
    final List<HttpContent> bodyWhileConnecting = new ArrayList<>();
    final UpstreamChoice upstreams = new UpstreamChoice(context.cluster());

    /** Whether {@link #upstream} came from the keep-alive pool rather than a connect of its own. */
    boolean reusedConnection;

    /** An h2c stream, not a connection: never returned to the keep-alive pool. */
    boolean singleUse;

    Channel upstream;
    boolean requestComplete;
    boolean responseStarted;
    boolean responseComplete;
    boolean upstreamReusable;
    boolean skipInterimLast;
    boolean closeAfter;
    int status;
    long responseDeadlineNanos;
    Http1UpstreamHandler upstreamHandler;

    Exchange(HttpRequest request, boolean clientKeepAlive) {
      this.request = request;
      this.clientKeepAlive = clientKeepAlive;
      this.head = HttpMethod.HEAD.equals(request.method());
    }

    HostPort endpoint() {
      return upstreams.current();
    }

    @Override
    public boolean current() {
      return exchange == this;
    }

    @Override
    public void connecting() {
      state = State.CONNECTING;
      setReading(false);
    }

    @Override
    public void attached(Channel channel, boolean pooled, boolean singleUse) {
      reusedConnection = pooled;
      this.singleUse = singleUse;
      attach(channel);
    }

    @Override
    public void unreachable(UpstreamErrorReason reason, String detail, boolean counted) {
      connectFailed(this, reason, detail, !counted);
    }

    @Override
    public void refused(UpstreamErrorReason reason, String detail) {
      failBeforeResponse(reason, HttpResponseStatus.BAD_GATEWAY, detail);
    }

    boolean mustCloseAfterResponse() {
      // Draining without a successor to move to: requests already read are still answered; the
      // last of them says close.
      return !clientKeepAlive
          || !requestComplete
          || (persistence == Persistence.CLOSE_AFTER_RESPONSE && !decoder.hasUnconsumedBytes());
    }

    void attach(Channel channel) {
      upstream = channel;
      upstreamHandler = channel.pipeline().get(Http1UpstreamHandler.class);
      upstreamHandler.owner(Http1ProxyHandler.this);
      channel.write(request);
      boolean anyBody = !bodyWhileConnecting.isEmpty();
      bodyWhileConnecting.forEach(channel::write);
      bodyWhileConnecting.clear();
      // A head alone is flushed with the body that follows (one syscall for a GET, not two).
      if (anyBody || requestComplete) {
        channel.flush();
      }
      if (requestComplete) {
        requestSent();
      } else {
        state = State.STREAMING_REQUEST;
        setReading(channel.isWritable());
      }
    }

    void forwardBody(HttpContent content) {
      if (content.decoderResult().isFailure()) {
        content.release();
        requestComplete = false;
        upstreamLost("malformed request body from " + ctx.channel().remoteAddress());
        return;
      }
      boolean last = content instanceof LastHttpContent;
      if (upstream == null) {
        bodyWhileConnecting.add(content);
      } else {
        upstream.writeAndFlush(content);
        if (!upstream.isWritable()) {
          setReading(false);
        }
      }
      if (last) {
        requestComplete = true;
        if (upstream != null) {
          requestSent();
        }
      }
    }

    void requestSent() {
      // Reading goes on: a pipelined request that arrives now is queued, and only then does
      // reading pause (channelRead). Pausing every time would cost two epoll_ctl per request.
      if (responseStarted) {
        state = State.STREAMING_RESPONSE;
        return;
      }
      state = State.AWAITING_RESPONSE;
      long timeoutNanos = context.clusterConfig().requestTimeout().toNanos();
      responseDeadlineNanos = System.nanoTime() + timeoutNanos;
      responseTimer.arm(timeoutNanos);
    }

    void startResponse(HttpResponse response) {
      responseStarted = true;
      status = response.status().code();
      upstreamReusable = !singleUse && HttpUtil.isKeepAlive(response);
      boolean chunked = HopByHop.strip(response.headers());
      response.setProtocolVersion(HttpVersion.HTTP_1_1);
      closeAfter = mustCloseAfterResponse();
      boolean bodyless = head || status == 204 || status == 304;
      if (!bodyless && !response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
        if (chunked || request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
          response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else {
          closeAfter = true; // an HTTP/1.0 client reads such a body until the close
        }
      }
      if (closeAfter) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      } else if (!request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      if (context.servingHeader()) {
        response
            .headers()
            .set(ListenerContext.GENERATION_HEADER, Long.toString(context.generation()));
      }
      if (requestComplete) {
        state = State.STREAMING_RESPONSE;
      }
      encoder.answeringHead(head);
      ctx.write(response);
    }

    void forwardResponseBody(HttpContent content) {
      if (!(content instanceof LastHttpContent)) {
        ctx.writeAndFlush(content);
        if (!ctx.channel().isWritable()) {
          upstream.config().setAutoRead(false);
        }
        return;
      }
      responseComplete = true;
      upstreams.recordSuccess();
      ctx.writeAndFlush(content).addListener(f -> responseWritten(f.isSuccess()));
    }

    void responseWritten(boolean success) {
      if (exchange != this) {
        return;
      }
      context.metrics().requestFinished(status);
      releaseUpstream(upstreamReusable && requestComplete);
      if (!success) {
        exchange = null;
        ctx.close();
      } else if (closeAfter) {
        exchange = null;
        closeGracefully();
      } else {
        exchangeEnded();
      }
    }

    void failBeforeResponse(UpstreamErrorReason reason, HttpResponseStatus status, String detail) {
      context.clusterMetrics().upstreamError(reason);
      log.warn(
          "listener {} cluster {} endpoint {}: {} ({}), answering {}",
          context.name(),
          context.cluster().name(),
          endpoint(),
          reason.label(),
          detail,
          status.code());
      releaseUpstream(false);
      bodyWhileConnecting.forEach(HttpContent::release);
      bodyWhileConnecting.clear();
      respondWithError(status, status.reasonPhrase() + ": " + detail + "\n", false);
    }

    void upstreamLost(String detail) {
      if (!responseStarted) {
        failBeforeResponse(
            UpstreamErrorReason.CONNECTION_LOST, HttpResponseStatus.BAD_GATEWAY, detail);
        return;
      }
      // Headers are out: the client can only learn of it by the connection closing.
      context.clusterMetrics().upstreamError(UpstreamErrorReason.CONNECTION_LOST);
      log.warn(
          "listener {} cluster {} endpoint {}: connection_lost mid-response ({}), closing the"
              + " client connection",
          context.name(),
          context.cluster().name(),
          endpoint(),
          detail);
      context.metrics().requestFinished(0);
      releaseUpstream(false);
      exchange = null;
      ctx.close();
    }

    void abandon() {
      // Only the current exchange is abandoned, and it has not been counted yet.
      context.metrics().requestFinished(0);
      releaseUpstream(false);
      bodyWhileConnecting.forEach(HttpContent::release);
      bodyWhileConnecting.clear();
    }

    private void releaseUpstream(boolean reusable) {
      Channel ch = upstream;
      upstream = null;
      if (ch == null) {
        return;
      }
      upstreamHandler.owner(null);
      ch.config().setAutoRead(true);
      if (reusable && ch.isActive()) {
        context.cluster().pool(ch.eventLoop()).release(endpoint(), ch);
      } else {
        ch.close();
      }
    }
  }
}
