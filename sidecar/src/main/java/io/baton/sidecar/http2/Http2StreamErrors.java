package io.baton.sidecar.http2;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client broke HTTP/2 on one stream (an RFC 9113 §5.4.2 stream error): the stream is reset with
 * the error's code, a line names the peer, and {@code baton.http2.protocol.errors{scope=stream}}
 * counts it.
 *
 * <p>Three sources: the codec (a frame the stream's state forbids, flow control, content-length,
 * pseudo-headers in trailers) hands a stream error to the stream's channel as an exception, which
 * {@link Http2StreamProxy} passes here; {@link RequestHeaders} finds a request without its required
 * pseudo-headers; and a frame on a stream the codec no longer knows (closed, or never opened) the
 * codec resets itself, which {@link Http2FrameMeter} sees and reports through {@link #noted}.
 *
 * <p>Why not Netty's default: its stream channel answers any exception with RST_STREAM(CANCEL),
 * which tells the client it gave up, not that the client is at fault (h2spec, issue 16).
 */
final class Http2StreamErrors {

  private static final Logger log = LoggerFactory.getLogger(Http2StreamErrors.class);

  /**
   * On a connection: the stream this class last reset. When the stream's channel resets first, the
   * codec's own reset that follows finds the stream gone and goes out as a reset of an unknown
   * stream; that one must not be reported (and counted) a second time.
   */
  private static final AttributeKey<Integer> LAST_RESET = AttributeKey.valueOf("baton.h2.reset");

  private final ListenerContext context;

  Http2StreamErrors(ListenerContext context) {
    this.context = context;
  }

  /** The stream error {@code cause} is or wraps, or null if it is none (then: not the client's). */
  static Http2Exception.StreamException streamError(Throwable cause) {
    return Http2CodecUtil.getEmbeddedHttp2Exception(cause)
            instanceof Http2Exception.StreamException e
        ? e
        : null;
  }

  /**
   * Resets the stream of {@code ctx} (a stream channel) with {@code error}, logged and counted. The
   * reset goes out before the channel closes, so Netty's close does not send CANCEL as well (it
   * sends no second RST_STREAM on a stream already reset).
   */
  void reset(ChannelHandlerContext ctx, int streamId, Http2Error error, String detail) {
    Channel connection = ctx.channel().parent();
    connection.attr(LAST_RESET).set(streamId);
    noted(connection.remoteAddress(), streamId, error, detail);
    ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
  }

  /**
   * The codec reset {@code streamId}, a stream it no longer knows, on {@code connection}: logged
   * and counted unless it is the echo of this class's own reset of that stream.
   */
  void codecResetUnknownStream(Channel connection, int streamId, Http2Error error, String detail) {
    Integer ours = connection.attr(LAST_RESET).get();
    if (ours != null && ours == streamId) {
      return;
    }
    noted(connection.remoteAddress(), streamId, error, detail);
  }

  /** Logs and counts a stream error already answered (by the codec) on {@code peer}'s stream. */
  void noted(Object peer, int streamId, Http2Error error, String detail) {
    context.metrics().http2ProtocolError("stream", error.name());
    log.info(
        "listener {}: HTTP/2 client {} broke stream {}, answered RST_STREAM({}): {}",
        context.name(),
        peer,
        streamId,
        error.name(),
        detail);
  }
}
