package io.baton.sidecar.http1;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.Http1UpstreamHandler;
import io.baton.sidecar.upstream.UpstreamChoice;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * One request of a client connection and its response, across one upstream channel: the request
 * written upstream, the response written back, the upstream channel returned to the pool or closed
 * at the end. It owns the upstream channel while it runs: the upstream's events come here ({@link
 * Http1UpstreamHandler.Owner}), and so do the opener's ({@link UpstreamOpener.Attempt}). Its
 * connection ({@link ClientConnection}) decides what comes after it; {@link UpstreamFailures} what
 * a failed upstream costs it. Runs on the connection's event loop.
 */
final class Exchange implements UpstreamOpener.Attempt, Http1UpstreamHandler.Owner {

  final HttpRequest request;
  private final HttpVersion clientVersion;
  final boolean clientKeepAlive;
  final boolean head;
  final UpstreamChoice upstreams;
  private final ClientConnection connection;
  private final ListenerContext context;
  private final ChannelHandlerContext ctx;
  private final UpstreamFailures failures;
  private final RequestBody body;

  /** Whether {@link #upstream} came from the keep-alive pool rather than a connect of its own. */
  boolean reusedConnection;

  /** An h2c stream, not a connection: never returned to the keep-alive pool. */
  boolean singleUse;

  Channel upstream;
  boolean requestComplete;
  boolean responseStarted;
  boolean responseComplete;
  private boolean upstreamReusable;
  private boolean skipInterimLast;
  private boolean closeAfter;
  private int status;
  long responseDeadlineNanos;
  private Http1UpstreamHandler upstreamHandler;

  Exchange(
      ClientConnection connection,
      UpstreamFailures failures,
      HttpRequest request,
      boolean clientKeepAlive) {
    this.connection = connection;
    this.context = connection.context();
    this.ctx = connection.ctx();
    this.failures = failures;
    this.request = request;
    // Taken now: the request's head is rewritten to HTTP/1.1 for the upstream before it is sent.
    this.clientVersion = request.protocolVersion();
    this.clientKeepAlive = clientKeepAlive;
    this.head = HttpMethod.HEAD.equals(request.method());
    this.upstreams = new UpstreamChoice(context.cluster());
    this.body = new RequestBody(ctx.channel());
  }

  HostPort endpoint() {
    return upstreams.current();
  }

  // ---- from the opener ----

  /**
   * Whether the opener's channel is still wanted: the client may have gone, or been answered by
   * Baton itself (a malformed body) while the channel opened.
   */
  @Override
  public boolean current() {
    return connection.exchange() == this && !responseComplete;
  }

  @Override
  public void connecting() {
    connection.moveTo(ConnectionState.CONNECTING);
    connection.setReading(false);
  }

  @Override
  public void attached(Channel channel, boolean pooled, boolean singleUse) {
    reusedConnection = pooled;
    this.singleUse = singleUse;
    attach(channel);
  }

  @Override
  public void unreachable(UpstreamErrorReason reason, String detail, boolean counted) {
    failures.connectFailed(this, reason, detail, !counted);
  }

  @Override
  public void refused(UpstreamErrorReason reason, String detail) {
    failures.failBeforeResponse(this, reason, HttpResponseStatus.BAD_GATEWAY, detail);
  }

  // ---- from the upstream channel (same event loop) ----

  @Override
  public void upstreamRead(Channel from, Object msg) {
    if (connection.exchange() != this || upstream != from) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse response) {
      if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL
          && response.status().code() != 101) {
        // Expect was answered here already; an interim response from upstream carries nothing for
        // the client.
        skipInterimLast = true;
        ReferenceCountUtil.release(msg);
        return;
      }
      startResponse(response);
    }
    if (msg instanceof HttpContent content) {
      if (skipInterimLast) {
        skipInterimLast = !(content instanceof LastHttpContent);
        content.release();
        return;
      }
      forwardResponseBody(content);
    } else if (!(msg instanceof HttpResponse)) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void upstreamClosed(Channel from) {
    if (connection.exchange() != this || upstream != from || responseComplete) {
      return;
    }
    failures.upstreamClosed(this);
  }

  @Override
  public void upstreamWritabilityChanged(Channel from) {
    if (connection.exchange() == this
        && upstream == from
        && connection.state() == ConnectionState.STREAMING_REQUEST) {
      body.followUpstream(from);
    }
  }

  /** The client can take more: so can the upstream's reading. */
  void clientWritable() {
    if (upstream != null) {
      upstream.config().setAutoRead(true);
    }
  }

  // ---- the request ----

  boolean mustCloseAfterResponse() {
    return connection
        .persistence()
        .closesAfterResponse(clientKeepAlive, requestComplete, connection.pipelinedBytesWaiting());
  }

  private void attach(Channel channel) {
    upstream = channel;
    upstreamHandler = channel.pipeline().get(Http1UpstreamHandler.class);
    upstreamHandler.owner(this);
    channel.write(request);
    boolean anyBody = body.writeHeld(channel);
    // A head alone is flushed with the body that follows (one syscall for a GET, not two).
    if (anyBody || requestComplete) {
      channel.flush();
    }
    if (requestComplete) {
      requestSent();
    } else {
      connection.moveTo(ConnectionState.STREAMING_REQUEST);
      body.followUpstream(channel);
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
    body.forward(content, upstream);
    if (last) {
      requestComplete = true;
      if (upstream != null) {
        requestSent();
      }
    }
  }

  private void requestSent() {
    // Reading goes on: a pipelined request that arrives now is queued, and only then does
    // reading pause (channelRead). Pausing every time would cost two epoll_ctl per request.
    if (responseStarted) {
      connection.moveTo(ConnectionState.STREAMING_RESPONSE);
      return;
    }
    connection.moveTo(ConnectionState.AWAITING_RESPONSE);
    long timeoutNanos = context.clusterConfig().requestTimeout().toNanos();
    responseDeadlineNanos = System.nanoTime() + timeoutNanos;
    connection.awaitResponse(timeoutNanos);
  }

  // ---- the response ----

  private void startResponse(HttpResponse response) {
    responseStarted = true;
    status = response.status().code();
    upstreamReusable = !singleUse && HttpUtil.isKeepAlive(response);
    closeAfter =
        ResponseHead.prepareForClient(response, clientVersion, head, mustCloseAfterResponse());
    if (context.servingHeader()) {
      response
          .headers()
          .set(ListenerContext.GENERATION_HEADER, Long.toString(context.generation()));
    }
    if (requestComplete) {
      connection.moveTo(ConnectionState.STREAMING_RESPONSE);
    }
    connection.answeringHead(head);
    ctx.write(response);
  }

  private void forwardResponseBody(HttpContent content) {
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

  /**
   * Answers the client with Baton's own response instead of the upstream's.
   *
   * @param forceClose whether the connection closes after it whatever the request said
   */
  void answer(HttpResponseStatus answer, String text, boolean forceClose) {
    boolean close = forceClose || mustCloseAfterResponse();
    closeAfter = close;
    FullHttpResponse response = ErrorResponses.of(answer, text, close, context);
    status = answer.code();
    responseStarted = true;
    responseComplete = true;
    connection.moveTo(ConnectionState.STREAMING_RESPONSE);
    connection.answeringHead(head);
    ctx.writeAndFlush(response).addListener(f -> responseWritten(f.isSuccess()));
  }

  private void responseWritten(boolean success) {
    if (connection.exchange() != this) {
      return;
    }
    context.metrics().requestFinished(status);
    releaseUpstream(upstreamReusable && requestComplete);
    connection.exchangeEnded(success, closeAfter);
  }

  // ---- the end ----

  /** The upstream failed after the request went out (or its body could not be read). */
  void upstreamLost(String detail) {
    failures.upstreamLost(this, detail);
  }

  /**
   * The request will not be sent any further: gives back the upstream channel (closed) and the held
   * body.
   */
  void dropUpstream() {
    releaseUpstream(false);
    body.discard();
  }

  /** The client went away; only the current exchange is abandoned, and it is not counted yet. */
  void abandon() {
    context.metrics().requestFinished(0);
    dropUpstream();
  }

  void releaseUpstream(boolean reusable) {
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
