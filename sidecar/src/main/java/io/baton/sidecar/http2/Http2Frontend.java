package io.baton.sidecar.http2;

import io.baton.sidecar.h2c.Http2Flushing;
import io.baton.sidecar.h2c.Http2Limits;
import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of an HTTP/2 client connection, installed on a pipeline that carries the
 * connection's cleartext bytes from the client preface on.
 *
 * <p><b>The seam other transports call:</b> {@link #install(ChannelPipeline, ListenerContext)}. The
 * cleartext listener calls it when it sniffs the prior-knowledge preface; TLS calls it after ALPN
 * chose {@code h2} (the TLS handler stays in front, this adds behind it). Keep its name and
 * signature stable.
 *
 * <p>What it installs: flushes gathered per event-loop turn, Netty's frame codec with Baton's
 * limits and flood protections, the drain handler (two-phase GOAWAY, {@link Http2ConnectionDrain})
 * and a multiplexer that gives every client stream its own child channel served by {@link
 * Http2StreamProxy}.
 */
public final class Http2Frontend {

  private Http2Frontend() {}

  /**
   * The end of the connection's pipeline: the codec has already answered a connection error (GOAWAY
   * with its code, logged by {@link Http2FrameMeter}) and closes the connection itself; what
   * reaches here only needs noting.
   */
  private static final class ConnectionErrors extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2Frontend.class);
    private final ListenerContext context;

    ConnectionErrors(ListenerContext context) {
      this.context = context;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug(
          "listener {}: HTTP/2 connection from {}: {}",
          context.name(),
          ctx.channel().remoteAddress(),
          cause.toString());
    }
  }

  /**
   * Adds the HTTP/2 server handlers at the end of {@code pipeline}, on an active channel whose next
   * inbound bytes are the client preface (bytes already read may be fired through the pipeline
   * right after). Call on the channel's event loop.
   */
  public static void install(ChannelPipeline pipeline, ListenerContext context) {
    Http2StreamErrors streamErrors = new Http2StreamErrors(context);
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forServer()
            .initialSettings(
                Http2Settings.defaultSettings()
                    .maxConcurrentStreams(Http2Limits.MAX_CONCURRENT_STREAMS)
                    .maxHeaderListSize(Http2Limits.MAX_HEADER_LIST_SIZE))
            // Counts GOAWAY and REFUSED_STREAM as they are written, logs and counts the protocol
            // errors Netty answers, and refuses client stream ids out of order.
            .frameLogger(new Http2FrameMeter(context, streamErrors))
            // Flood protections (CVE-2019-9512..9518, CVE-2023-44487 "rapid reset",
            // CVE-2024-27316): a peer that makes us queue control frames, sends empty DATA, resets
            // streams in a loop or drips CONTINUATION gets GOAWAY(ENHANCE_YOUR_CALM) instead of
            // our memory or CPU.
            .encoderEnforceMaxQueuedControlFrames(10_000)
            .decoderEnforceMaxConsecutiveEmptyDataFrames(2)
            .decoderEnforceMaxRstFramesPerWindow(200, 30)
            .decoderEnforceMaxSmallContinuationFrames(16)
            // Baton decides when GOAWAYs go out and when the connection closes (two-phase drain): a
            // close must close, not start Netty's own graceful shutdown.
            .decoupleCloseAndGoAway(true)
            .validateHeaders(true)
            .build();
    // Responses are written from the upstream connections' reads, each stream flushing its own
    // frames: without this every HEADERS and DATA was a writev of its own (3 per request, issue
    // 17). Flushes now gather until the event loop's turn ends, one writev for many streams.
    pipeline.addLast("h2-flush", Http2Flushing.gatheredPerLoopTurn());
    pipeline.addLast("h2-codec", codec);
    pipeline.addLast("h2-drain", new Http2ConnectionDrain(context, codec));
    pipeline.addLast(
        "h2-streams",
        new Http2MultiplexHandler(new Http2StreamProxy.Initializer(context, streamErrors)));
    pipeline.addLast("h2-errors", new ConnectionErrors(context));
    // After the codec's SETTINGS (written as it was added): the connection window (why:
    // Http2Limits.CONNECTION_WINDOW).
    if (pipeline.channel().isActive()) { // the codec writes its SETTINGS only on an active channel
      pipeline
          .context("h2-drain")
          .writeAndFlush(
              new DefaultHttp2WindowUpdateFrame(
                  Http2Limits.CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
    }
  }
}
