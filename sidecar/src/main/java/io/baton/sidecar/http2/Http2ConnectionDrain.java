package io.baton.sidecar.http2;

import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain of one HTTP/2 client connection, in two phases (RFC 9113 §6.8). HTTP/2 connections
 * never move to the successor: they are drained here.
 *
 * <ol>
 *   <li>GOAWAY(last stream 2^31-1, NO_ERROR) and a PING: the client learns it should open no new
 *       streams, while streams already on the wire are still accepted. A single GOAWAY with the
 *       current last stream id would refuse the streams the client sent before it read the GOAWAY:
 *       safe to retry, but only clients that honour the id do, and each is a retry.
 *   <li>On the PING's ack (every stream the client sent before it has arrived) or after {@code
 *       drain.http2GoawayDelay}: GOAWAY(the last stream id actually opened). Netty refuses any
 *       stream above it with RST_STREAM(REFUSED_STREAM), which a client may retry elsewhere.
 * </ol>
 *
 * Accepted streams complete; Baton never resets one. The connection closes when its last stream
 * ends after the final GOAWAY, or at the drain deadline (the listener closes what is left).
 */
final class Http2ConnectionDrain extends ChannelDuplexHandler {

  private static final Logger log = LoggerFactory.getLogger(Http2ConnectionDrain.class);

  /** Where this connection is in its drain. */
  enum State {
    /** Not draining: streams come and go. */
    SERVING,
    /** First GOAWAY and PING sent; waiting for the PING ack or the delay. */
    ANNOUNCED,
    /** Final GOAWAY sent; the connection closes when no stream is left. */
    FINAL_SENT,
    /** The last stream ended (or there was none): the close is under way. */
    CLOSING
  }

  private final ListenerContext context;
  private final Http2FrameCodec codec;
  private final long pingToken = ThreadLocalRandom.current().nextLong();
  private ChannelHandlerContext ctx;
  private State state = State.SERVING;
  private ScheduledFuture<?> finalTimer;

  Http2ConnectionDrain(ListenerContext context, Http2FrameCodec codec) {
    this.context = context;
    this.codec = codec;
  }

  State state() {
    return state;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    codec
        .connection()
        .addListener(
            new Http2ConnectionAdapter() {
              @Override
              public void onStreamClosed(Http2Stream stream) {
                if (state == State.FINAL_SENT) {
                  // Netty closes the stream while it writes or reads its last frame: check after
                  // that.
                  ctx.executor().execute(Http2ConnectionDrain.this::closeIfNoStreams);
                }
              }
            });
    if (context.drain().isDraining()) {
      // Accepted while the drain began (or sniffed after it): drain at once, after the codec's
      // preface and SETTINGS, which it writes when it is added.
      ctx.executor().execute(this::announce);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == DrainEvent.DRAIN_STARTED) {
      announce();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof Http2PingFrame ping && ping.ack() && ping.content() == pingToken) {
      sendFinal("PING ack");
      return;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimer();
    super.channelInactive(ctx);
  }

  private void announce() {
    if (state != State.SERVING || !ctx.channel().isActive() || !context.drain().isDraining()) {
      return;
    }
    state = State.ANNOUNCED;
    ctx.write(
        new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
    ctx.writeAndFlush(new DefaultHttp2PingFrame(pingToken));
    context.metrics().http2GoawaySent("first");
    long delayNanos = context.http2GoawayDelay().toNanos();
    finalTimer =
        ctx.executor().schedule(() -> sendFinal("goaway delay"), delayNanos, TimeUnit.NANOSECONDS);
    log.debug(
        "listener {}: HTTP/2 connection from {}: first GOAWAY sent",
        context.name(),
        ctx.channel().remoteAddress());
  }

  private void sendFinal(String why) {
    if (state != State.ANNOUNCED) {
      return;
    }
    cancelTimer();
    state = State.FINAL_SENT;
    // No extra stream ids: the codec fills in the last stream the client opened.
    ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
    context.metrics().http2GoawaySent("final");
    log.debug(
        "listener {}: HTTP/2 connection from {}: final GOAWAY (last stream {}) after {}",
        context.name(),
        ctx.channel().remoteAddress(),
        codec.connection().remote().lastStreamCreated(),
        why);
    closeIfNoStreams();
  }

  private void closeIfNoStreams() {
    if (state != State.FINAL_SENT || codec.connection().numActiveStreams() > 0) {
      return;
    }
    state = State.CLOSING;
    // After everything written so far (the final GOAWAY, the last stream's end) has left.
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  private void cancelTimer() {
    if (finalTimer != null) {
      finalTimer.cancel(false);
      finalTimer = null;
    }
  }
}
