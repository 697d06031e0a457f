package io.baton.sidecar.http2;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.logging.LogLevel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sees every frame the codec of one connection writes and reads (Netty's frame-logger hook, at
 * TRACE so it logs nothing by itself): counts streams refused with RST_STREAM(REFUSED_STREAM),
 * whoever refused them (Netty above the final GOAWAY's last stream id or above
 * MAX_CONCURRENT_STREAMS), and logs and counts every GOAWAY with an error code, naming the peer.
 * That GOAWAY is how Netty ends a connection whose peer broke the protocol or flooded it; without
 * this line it would end silently. Likewise the RST_STREAM Netty answers a frame on a stream it no
 * longer knows with ({@link Http2StreamErrors#noted}).
 *
 * <p>It also hands client HEADERS frames to {@link InboundHeadersCheck} before the decoder acts on
 * them: this hook is the only one Netty's codec builder offers between the frame reader and the
 * decoder.
 */
final class Http2FrameMeter extends Http2FrameLogger {

  private static final Logger log = LoggerFactory.getLogger(Http2FrameMeter.class);

  private final ListenerContext context;
  private final Http2StreamErrors streamErrors;
  private final InboundHeadersCheck headersCheck = new InboundHeadersCheck();

  Http2FrameMeter(ListenerContext context, Http2StreamErrors streamErrors) {
    super(LogLevel.TRACE, Http2FrameMeter.class);
    this.context = context;
    this.streamErrors = streamErrors;
  }

  @Override
  public void logHeaders(
      Direction direction,
      ChannelHandlerContext ctx,
      int streamId,
      Http2Headers headers,
      int padding,
      boolean endStream) {
    checkHeaders(direction, ctx, streamId);
    super.logHeaders(direction, ctx, streamId, headers, padding, endStream);
  }

  @Override
  public void logHeaders(
      Direction direction,
      ChannelHandlerContext ctx,
      int streamId,
      Http2Headers headers,
      int streamDependency,
      short weight,
      boolean exclusive,
      int padding,
      boolean endStream) {
    checkHeaders(direction, ctx, streamId);
    super.logHeaders(
        direction, ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
  }

  /**
   * Runs {@link InboundHeadersCheck} on a client HEADERS frame. The hook declares no checked
   * exception but its caller, the frame reader, handles {@link Http2Exception}: thrown as such, a
   * stream error leaves the connection readable (an unchecked one would stop the reader), and the
   * codec answers connection and stream errors as its own.
   */
  private void checkHeaders(Direction direction, ChannelHandlerContext ctx, int streamId) {
    if (direction != Direction.INBOUND
        || !(ctx.handler() instanceof Http2ConnectionHandler codec)) {
      return;
    }
    try {
      headersCheck.check(codec.connection(), streamId);
    } catch (Http2Exception e) {
      throwUnchecked(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> void throwUnchecked(Throwable t) throws T {
    throw (T) t;
  }

  @Override
  public void logRstStream(
      Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
    if (direction == Direction.OUTBOUND) {
      if (errorCode == Http2Error.REFUSED_STREAM.code()) {
        context.metrics().http2StreamRefused();
      } else if (isClientFault(errorCode) && unknownStream(ctx, streamId)) {
        // A stream the proxy serves is reset by Http2StreamErrors, which logs it there.
        streamErrors.codecResetUnknownStream(
            ctx.channel(),
            streamId,
            Http2Error.valueOf(errorCode),
            "a frame on a stream that is closed or was never opened");
      }
    }
    super.logRstStream(direction, ctx, streamId, errorCode);
  }

  /** An error code that blames the peer (not ours, not a cancel or a refusal). */
  private static boolean isClientFault(long errorCode) {
    Http2Error error = Http2Error.valueOf(errorCode);
    return error != null
        && error != Http2Error.NO_ERROR
        && error != Http2Error.CANCEL
        && error != Http2Error.REFUSED_STREAM
        && error != Http2Error.INTERNAL_ERROR;
  }

  private static boolean unknownStream(ChannelHandlerContext ctx, int streamId) {
    return ctx.handler() instanceof Http2ConnectionHandler codec
        && codec.connection().stream(streamId) == null;
  }

  @Override
  public void logGoAway(
      Direction direction,
      ChannelHandlerContext ctx,
      int lastStreamId,
      long errorCode,
      ByteBuf debugData) {
    if (errorCode != Http2Error.NO_ERROR.code()) {
      Http2Error error = Http2Error.valueOf(errorCode);
      String name = error == null ? Long.toString(errorCode) : error.name();
      String debug =
          debugData == null
              ? ""
              : debugData.toString(
                  debugData.readerIndex(),
                  Math.min(debugData.readableBytes(), 256),
                  StandardCharsets.UTF_8);
      if (direction == Direction.OUTBOUND) {
        if (isClientFault(errorCode)) {
          context.metrics().http2ProtocolError("connection", name);
        }
        log.warn(
            "listener {}: HTTP/2 connection from {} ended with GOAWAY({}, last stream {}): {}",
            context.name(),
            ctx.channel().remoteAddress(),
            name,
            lastStreamId,
            debug);
      } else {
        log.info(
            "listener {}: HTTP/2 client {} sent GOAWAY({}, last stream {}): {}",
            context.name(),
            ctx.channel().remoteAddress(),
            name,
            lastStreamId,
            debug);
      }
    }
    super.logGoAway(direction, ctx, lastStreamId, errorCode, debugData);
  }
}
