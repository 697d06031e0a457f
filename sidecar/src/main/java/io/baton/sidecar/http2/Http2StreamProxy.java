package io.baton.sidecar.http2;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
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
 * trailers-only response with the matching status. Never a dropped stream. A client that breaks the
 * protocol on the stream gets RST_STREAM with the error's code ({@link Http2StreamErrors}).
 *
 * <p>This class owns the stream's {@link State} and the order of events; the roles are its helpers:
 * {@link RequestHeaders} (the request as the upstream gets it), {@link RequestReplay} (what a retry
 * sends again), {@link UpstreamAttempts} (members, calls, retries), {@link ResponseRelay} (what the
 * client gets).
 */
final class Http2StreamProxy extends ChannelInboundHandlerAdapter implements UpstreamCall.Listener {

  private static final Logger log = LoggerFactory.getLogger(Http2StreamProxy.class);

  /** Gives every client stream its proxy. */
  @ChannelHandler.Sharable
  static final class Initializer extends ChannelInitializer<Http2StreamChannel> {
    private final ListenerContext context;
    private final Http2StreamErrors streamErrors;

    Initializer(ListenerContext context, Http2StreamErrors streamErrors) {
      this.context = context;
      this.streamErrors = streamErrors;
    }

    @Override
    protected void initChannel(Http2StreamChannel ch) {
      ch.pipeline().addLast(new Http2StreamProxy(context, streamErrors));
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
  private final Http2StreamErrors streamErrors;
  private ChannelHandlerContext ctx;
  private State state = State.AWAITING_HEADERS;
  private RequestHeaders request;
  private boolean requestComplete;
  private UpstreamCall call;
  private UpstreamAttempts upstreams;
  private ResponseRelay response;
  private final RequestReplay replay = new RequestReplay();
  private int status;
  private ScheduledFuture<?> responseTimer;

  Http2StreamProxy(ListenerContext context, Http2StreamErrors streamErrors) {
    this.context = context;
    this.streamErrors = streamErrors;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.upstreams = new UpstreamAttempts(context, ctx.channel().eventLoop(), this);
    this.response = new ResponseRelay(ctx, context);
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
        replay.trailers(h.headers());
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
      replay.data(data, d.isEndStream());
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

  private void begin(Http2Headers headers, boolean endStream) {
    String malformed = RequestHeaders.malformed(headers);
    if (malformed != null) {
      // Never a request: not counted as one, nothing goes upstream (RFC 9113 §8.1.1).
      state = State.DONE;
      replay.drop();
      streamErrors.reset(ctx, streamId(), Http2Error.PROTOCOL_ERROR, malformed);
      return;
    }
    context.metrics().streamStarted();
    state = State.AWAITING_RESPONSE;
    request = RequestHeaders.of(headers, endStream, ctx.channel().parent());
    requestComplete = endStream;
    HostPort first = upstreams.first();
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
    call = upstreams.call(to, request, replay);
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
    replay.drop();
    state = State.STREAMING_RESPONSE;
    status = parseStatus(headers.status());
    response.headers(headers, endStream);
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
    response.data(data, endStream);
    if (!response.clientWritable()) {
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
    response.trailers(trailers);
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
    HostPort next = upstreams.retryTarget(failure, replay.complete());
    if (next == null) {
      failBeforeResponse(failure);
      return;
    }
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
    response.failureMidResponse(failure, request.grpc());
    finish(0);
  }

  private void failBeforeResponse(UpstreamFailure failure) {
    cancelTimer();
    replay.drop();
    context.clusterMetrics().upstreamError(failure.reason());
    boolean grpc = request.grpc();
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
    // its :status is 200: alerts on 5xx must see it.
    status = failure.httpStatus();
    response.failureAnswer(failure, grpc);
    finish(status);
    // The rest of the request body, if any, is read and dropped (its flow-control credit returned).
    setReading(true);
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
    replay.drop();
    context.metrics().streamFinished(answered);
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

  private int streamId() {
    return ((Http2StreamChannel) ctx.channel()).stream().id();
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
          streamId(),
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
    replay.drop();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Http2Exception.StreamException clientError = Http2StreamErrors.streamError(cause);
    if (clientError != null) {
      // The codec found the client breaking the protocol on this stream (RFC 9113 §5.4.2): it is
      // told with the error's code, the upstream exchange ends as for a client reset.
      streamErrors.reset(ctx, streamId(), clientError.error(), clientError.getMessage());
      abandon();
      return;
    }
    log.debug(
        "listener {}: stream of {} failed: {}",
        context.name(),
        ctx.channel().parent().remoteAddress(),
        cause.toString());
    ctx.close();
  }
}
