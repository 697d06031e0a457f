package io.baton.sidecar.http2;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.logging.LogLevel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sees every frame the codec writes and reads (Netty's frame-logger hook, at TRACE so it logs
 * nothing by itself): counts streams refused with RST_STREAM(REFUSED_STREAM), whoever refused them
 * (Netty above the final GOAWAY's last stream id or above MAX_CONCURRENT_STREAMS), and logs every
 * GOAWAY with an error code, naming the peer. That GOAWAY is how Netty ends a connection whose peer
 * broke the protocol or flooded it; without this line it would end silently.
 */
final class Http2FrameMeter extends Http2FrameLogger {

  private static final Logger log = LoggerFactory.getLogger(Http2FrameMeter.class);

  private final ListenerContext context;

  Http2FrameMeter(ListenerContext context) {
    super(LogLevel.TRACE, Http2FrameMeter.class);
    this.context = context;
  }

  @Override
  public void logRstStream(
      Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
    if (direction == Direction.OUTBOUND && errorCode == Http2Error.REFUSED_STREAM.code()) {
      context.metrics().http2StreamRefused();
    }
    super.logRstStream(direction, ctx, streamId, errorCode);
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
