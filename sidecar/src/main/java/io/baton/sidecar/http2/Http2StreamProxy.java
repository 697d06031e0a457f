package io.baton.sidecar.http2;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.upstream.UpstreamChoice;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream of an HTTP/2 client connection, on its own child channel: sends the request to a
 * member of the listener's cluster ({@link UpstreamCall}) and the response back, frame by frame.
 * Backpressure both ways by reading: the client's stream is read only while the upstream takes more
 * (unread DATA holds back WINDOW_UPDATEs, so the client stops at its window), the upstream is read
 * only while the client's stream is writable.
 *
 * <p>A request the upstream never processed (connect failed, stream refused, above its GOAWAY) goes
 * again to another member or connection while its body so far is small enough to keep (64 KiB);
 * when nothing is left to try, or the upstream failed, the client gets 502/503/504, or a gRPC
 * trailers-only response with the matching status. Never a dropped stream.
 */
final class Http2StreamProxy extends ChannelInboundHandlerAdapter implements UpstreamCall.Listener {

  private static final Logger log = LoggerFactory.getLogger(Http2StreamProxy.class);
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString GENERATION =
      AsciiString.of(ListenerContext.GENERATION_HEADER.toLowerCase());

  /** Request body kept to send again if the upstream refuses the stream; above it, no retry. */
  static final int MAX_REPLAY_BYTES = 64 * 1024;

  /** Attempts for one request after the first (members refusing, connections going away). */
  private static final int MAX_RETRIES = 3;

  /** Gives every client stream its proxy. */
  @ChannelHandler.Sharable
  static final class Initializer extends ChannelInitializer<Http2StreamChannel> {
    private final ListenerContext context;

    Initializer(ListenerContext context) {
      this.context = context;
    }

    @Override
    protected void initChannel(Http2StreamChannel ch) {
      ch.pipeline().addLast(new Http2StreamProxy(context));
    }
  }

  /** Where the stream is. */
  enum State {
    /** Nothing read yet. */
    AWAITING_HEADERS,
    /** The request went to the upstream; no response yet. */
    AWAITING_RESPONSE,
    /** The response flows to the client. */
    STREAMING_RESPONSE,
    /** Answered, failed or reset: counted; anything more from the client is dropped. */
    DONE
  }

  private final ListenerContext context;
  private ChannelHandlerContext ctx;
  private State state = State.AWAITING_HEADERS;
  private Http2Headers requestHeaders;
  private boolean headersOnly;
  private boolean grpc;
  private boolean requestComplete;
  private UpstreamCall call;
  private final UpstreamChoice upstreams;
  private int retries;

  /**
   * Request frames sent so far (DATA as retained duplicates, trailers), while a retry may need
   * them.
   */
  private List<Object> replay = new ArrayList<>(2);

  private int replayBytes;
  private int status;
  private ScheduledFuture<?> responseTimer;

  Http2StreamProxy(ListenerContext context) {
    this.context = context;
    this.upstreams = new UpstreamChoice(context.cluster());
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.DONE) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof Http2HeadersFrame h) {
      if (state == State.AWAITING_HEADERS) {
        begin(h.headers(), h.isEndStream());
      } else if (!requestComplete) {
        requestComplete = true;
        keepForReplay(h.headers(), 0);
        call.trailers(h.headers());
        requestEnded();
      }
    } else if (msg instanceof Http2DataFrame d) {
      if (state == State.AWAITING_HEADERS || requestComplete) {
        d.release();
        return;
      }
      requestComplete = d.isEndStream();
      ByteBuf data = d.content();
      if (replay != null) {
        keepForReplay(
            new ReplayData(data.retainedDuplicate(), d.isEndStream()), data.readableBytes());
      }
      call.data(data, d.isEndStream());
      if (!call.isWritable()) {
        setReading(false);
      }
      if (requestComplete) {
        requestEnded();
      }
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private record ReplayData(ByteBuf data, boolean endStream) {}

  private void keepForReplay(Object frame, int bytes) {
    if (replay == null) {
      return;
    }
    replayBytes += bytes;
    replay.add(frame);
    if (replayBytes > MAX_REPLAY_BYTES) {
      dropReplay(); // too much to keep: this request is not retried
    }
  }

  private void dropReplay() {
    if (replay != null) {
      for (Object o : replay) {
        if (o instanceof ReplayData r) {
          r.data().release();
        }
      }
      replay = null;
    }
  }

  private void begin(Http2Headers headers, boolean endStream) {
    context.metrics().streamStarted();
    state = State.AWAITING_RESPONSE;
    requestHeaders = headers;
    headersOnly = endStream;
    requestComplete = endStream;
    grpc = Grpc.isGrpc(headers);
    Channel connection = ctx.channel().parent();
    if (connection != null && connection.remoteAddress() instanceof InetSocketAddress client) {
      String ip = client.getAddress().getHostAddress();
      CharSequence prior = headers.get(X_FORWARDED_FOR);
      headers.set(X_FORWARDED_FOR, prior == null ? ip : prior + ", " + ip);
    }
    HostPort first = upstreams.first().orElse(null);
    if (first == null) {
      failBeforeResponse(
          UpstreamFailure.noEndpoint("no endpoint in cluster " + context.cluster().name()));
      return;
    }
    send(first);
    if (requestComplete) {
      requestEnded();
    }
  }

  /** Starts the exchange with {@code to}, sending whatever of the request arrived so far. */
  private void send(HostPort to) {
    boolean h2c = context.clusterConfig().protocol().http2();
    // The headers are shared by every attempt: each call gets its own copy (the codec may change
    // them).
    Http2Headers headers = new DefaultHttp2Headers(false).add(requestHeaders);
    call =
        h2c
            ? new H2cUpstreamCall(
                context.cluster(), ctx.channel().eventLoop(), to, headers, headersOnly, this)
            : new Http1UpstreamCall(
                context.cluster(), ctx.channel().eventLoop(), to, headers, headersOnly, this);
    if (replay != null) {
      for (Object o : replay) {
        if (o instanceof ReplayData r) {
          call.data(r.data().retainedDuplicate(), r.endStream());
        } else {
          call.trailers((Http2Headers) o);
        }
      }
    }
    setReading(call.isWritable());
  }

  private void requestEnded() {
    if (state != State.AWAITING_RESPONSE || responseTimer != null) {
      return;
    }
    long timeoutNanos = context.clusterConfig().requestTimeout().toNanos();
    responseTimer =
        ctx.executor().schedule(this::responseTimedOut, timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void responseTimedOut() {
    responseTimer = null;
    if (state != State.AWAITING_RESPONSE) {
      return;
    }
    upstreams.recordFailure();
    call.cancel();
    failBeforeResponse(
        UpstreamFailure.timeout(
            "upstream "
                + upstreams.current()
                + " did not answer within "
                + context.clusterConfig().requestTimeout().toMillis()
                + " ms"));
  }

  private void setReading(boolean reading) {
    ctx.channel().config().setAutoRead(reading);
  }

  // ---- from the upstream call (same event loop) ----

  @Override
  public void responseHeaders(Http2Headers headers, boolean endStream) {
    if (state != State.AWAITING_RESPONSE) {
      return;
    }
    cancelTimer();
    dropReplay();
    state = State.STREAMING_RESPONSE;
    status = parseStatus(headers.status());
    if (context.servingHeader()) {
      headers.set(GENERATION, Long.toString(context.generation()));
    }
    write(new DefaultHttp2HeadersFrame(headers, endStream));
    if (endStream) {
      complete();
    }
  }

  @Override
  public void responseData(ByteBuf data, boolean endStream) {
    if (state != State.STREAMING_RESPONSE) {
      data.release();
      return;
    }
    write(new DefaultHttp2DataFrame(data, endStream));
    if (!ctx.channel().isWritable()) {
      call.setReading(false);
    }
    if (endStream) {
      complete();
    }
  }

  @Override
  public void responseTrailers(Http2Headers trailers) {
    if (state != State.STREAMING_RESPONSE) {
      return;
    }
    write(new DefaultHttp2HeadersFrame(trailers, true));
    complete();
  }

  @Override
  public void writabilityChanged() {
    if (state != State.DONE && !requestComplete && call != null) {
      setReading(call.isWritable());
    }
  }

  @Override
  public void unprocessed(UpstreamFailure failure) {
    if (state != State.AWAITING_RESPONSE) {
      return;
    }
    call = null;
    boolean connectFailure = UpstreamConnector.memberUnreachable(failure.reason());
    if (connectFailure) {
      upstreams.markUnreachable();
    }
    // A refused stream may go to the same member again (a new connection); a member that refused
    // the connection is not tried again for this request.
    HostPort next =
        replay == null || retries >= MAX_RETRIES
            ? null
            : connectFailure
                ? upstreams.nextReachable().orElse(null)
                : upstreams.nextAny().orElse(null);
    if (next == null) {
      failBeforeResponse(failure);
      return;
    }
    retries++;
    context.clusterMetrics().upstreamError(failure.reason());
    log.warn(
        "listener {} cluster {} endpoint {}: {} ({}), sending the stream to {}",
        context.name(),
        context.cluster().name(),
        upstreams.current(),
        failure.reason().label(),
        failure.detail(),
        next);
    upstreams.retryOn(next);
    send(next);
  }

  @Override
  public void failed(UpstreamFailure failure) {
    if (state == State.AWAITING_RESPONSE) {
      call = null;
      failBeforeResponse(failure);
      return;
    }
    if (state != State.STREAMING_RESPONSE) {
      return;
    }
    context.clusterMetrics().upstreamError(failure.reason());
    log.warn(
        "listener {} cluster {} endpoint {}: {} mid-response ({})",
        context.name(),
        context.cluster().name(),
        upstreams.current(),
        failure.reason().label(),
        failure.detail());
    call = null;
    if (grpc) {
      // The headers are out: trailers carry the status, the stream ends cleanly.
      write(
          new DefaultHttp2HeadersFrame(
              Grpc.trailers(failure.grpcStatus(), failure.detail()), true));
    } else {
      // The only way left to tell an HTTP client the body is incomplete.
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(failure.resetCode()));
    }
    finish(0);
  }

  private void failBeforeResponse(UpstreamFailure failure) {
    cancelTimer();
    dropReplay();
    context.clusterMetrics().upstreamError(failure.reason());
    log.warn(
        "listener {} cluster {} endpoint {}: {} ({}), answering {}",
        context.name(),
        context.cluster().name(),
        upstreams.current(),
        failure.reason().label(),
        failure.detail(),
        grpc ? "grpc-status " + failure.grpcStatus() : Integer.toString(failure.httpStatus()));
    state = State.STREAMING_RESPONSE;
    // A gRPC call failed here counts in the class of the HTTP status it stands for (5xx), though
    // its
    // :status is 200: alerts on 5xx must see it.
    status = failure.httpStatus();
    Http2Headers headers;
    if (grpc) {
      headers = Grpc.trailersOnly(failure.grpcStatus(), failure.detail());
    } else {
      headers =
          new DefaultHttp2Headers()
              .status(Integer.toString(failure.httpStatus()))
              .set("content-type", "text/plain; charset=utf-8");
    }
    if (context.servingHeader()) {
      headers.set(GENERATION, Long.toString(context.generation()));
    }
    if (grpc) {
      write(new DefaultHttp2HeadersFrame(headers, true));
    } else {
      byte[] body =
          (reasonPhrase(failure.httpStatus()) + ": " + failure.detail() + "\n")
              .getBytes(StandardCharsets.UTF_8);
      ctx.write(new DefaultHttp2HeadersFrame(headers, false));
      write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
    }
    finish(status);
    // The rest of the request body, if any, is read and dropped (its flow-control credit returned).
    setReading(true);
  }

  private static String reasonPhrase(int status) {
    return HttpResponseStatus.valueOf(status).reasonPhrase();
  }

  private void complete() {
    upstreams.recordSuccess();
    call = null;
    if (context.drain().isDraining()) {
      context.metrics().http2StreamCompletedDuringDrain();
    }
    finish(status);
    setReading(true);
  }

  private void finish(int answered) {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    cancelTimer();
    dropReplay();
    context.metrics().streamFinished(answered);
  }

  private void write(Object frame) {
    ctx.writeAndFlush(frame)
        .addListener(
            f -> {
              if (!f.isSuccess() && ctx.channel().isActive()) {
                ctx.close();
              }
            });
  }

  private void cancelTimer() {
    if (responseTimer != null) {
      responseTimer.cancel(false);
      responseTimer = null;
    }
  }

  private static int parseStatus(CharSequence status) {
    try {
      return status == null ? 0 : Integer.parseInt(status.toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (call != null && state == State.STREAMING_RESPONSE) {
      call.setReading(ctx.channel().isWritable());
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof Http2ResetFrame reset) {
      // The client cancelled the stream: so does the upstream exchange.
      log.debug(
          "listener {}: client {} reset stream {} ({})",
          context.name(),
          ctx.channel().parent().remoteAddress(),
          ((Http2StreamChannel) ctx.channel()).stream().id(),
          reset.errorCode());
      abandon();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    abandon();
    super.channelInactive(ctx);
  }

  private void abandon() {
    if (call != null) {
      call.cancel();
      call = null;
    }
    if (state != State.AWAITING_HEADERS) {
      finish(0);
    }
    state = State.DONE;
    cancelTimer();
    dropReplay();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug(
        "listener {}: stream of {} failed: {}",
        context.name(),
        ctx.channel().parent().remoteAddress(),
        cause.toString());
    ctx.close();
  }
}
