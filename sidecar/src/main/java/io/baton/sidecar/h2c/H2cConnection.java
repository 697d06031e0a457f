package io.baton.sidecar.h2c;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One h2c connection to an upstream member and the streams it carries. Streams wait until the
 * member's SETTINGS arrived (they say how many streams it takes). After the member's GOAWAY the
 * connection takes no new stream and closes when its last one ends; Netty tells each stream above
 * the GOAWAY's last stream id, which the stream reports as never processed.
 */
final class H2cConnection {

  private static final Logger log = LoggerFactory.getLogger(H2cConnection.class);

  /** Streams a connection is given before the member's SETTINGS say how many it takes. */
  private static final int STREAMS_BEFORE_SETTINGS = 100;

  /** Where the connection is. */
  enum State {
    /** TCP connect, then waiting for the member's SETTINGS; streams wait. */
    CONNECTING,
    /** Takes streams up to the member's limit. */
    READY,
    /**
     * The member sent GOAWAY (or the connection failed): no new streams; closes when the last ends.
     */
    GOING_AWAY,
    CLOSED
  }

  private record Waiter(
      ChannelHandler handler, BiConsumer<Http2StreamChannel, H2cStreamFailure> then) {}

  private final H2cPool pool;
  private final Cluster cluster;
  private final HostPort endpoint;
  private final List<Waiter> waiting = new ArrayList<>();
  private State state = State.CONNECTING;
  private Channel channel;
  private Http2FrameCodec codec;

  /** Streams given to this connection (waiting or open) and not yet closed. */
  private int streams;

  H2cConnection(H2cPool pool, Cluster cluster, EventLoop loop, HostPort endpoint) {
    this.pool = pool;
    this.cluster = cluster;
    this.endpoint = endpoint;
    ChannelFuture connect =
        UpstreamConnector.connect(cluster, loop, endpoint, new Initializer(), true, false);
    channel = connect.channel();
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            connectFailed(f.cause());
          }
        });
  }

  HostPort endpoint() {
    return endpoint;
  }

  boolean takesNewStream() {
    if (state == State.READY && codec.connection().goAwayReceived()) {
      // Netty knows of the member's GOAWAY before the frame reaches the watcher (streams above
      // its last stream id hear of it first): a stream given now would be refused at once.
      goingAway("GOAWAY received");
    }
    if (state == State.CONNECTING) {
      return streams < STREAMS_BEFORE_SETTINGS && cluster.isMember(endpoint);
    }
    return state == State.READY && streams < streamLimit() && cluster.isMember(endpoint);
  }

  /**
   * The member's MAX_CONCURRENT_STREAMS, but no more than the connection window covers (see {@link
   * Http2Limits#CONNECTION_WINDOW}): a member that allows unlimited streams gets more connections
   * instead.
   */
  private int streamLimit() {
    return Math.min(
        codec.connection().local().maxActiveStreams(), Http2Limits.MAX_CONCURRENT_STREAMS);
  }

  void open(ChannelHandler handler, BiConsumer<Http2StreamChannel, H2cStreamFailure> then) {
    streams++;
    if (state == State.CONNECTING) {
      waiting.add(new Waiter(handler, then));
    } else {
      doOpen(handler, then);
    }
  }

  private void doOpen(
      ChannelHandler handler, BiConsumer<Http2StreamChannel, H2cStreamFailure> then) {
    if (state != State.READY) {
      streamEnded();
      then.accept(
          null,
          H2cStreamFailure.lost(
              "upstream " + endpoint + " connection went away before the stream opened"));
      return;
    }
    new Http2StreamChannelBootstrap(channel)
        .handler(handler)
        .open()
        .addListener(
            f -> {
              if (f.isSuccess()) {
                Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
                stream.closeFuture().addListener(c -> streamEnded());
                then.accept(stream, null);
              } else {
                streamEnded();
                then.accept(
                    null,
                    H2cStreamFailure.lost(
                        "cannot open a stream to " + endpoint + ": " + f.cause()));
              }
            });
  }

  private void streamEnded() {
    streams--;
    if (state == State.GOING_AWAY && streams == 0) {
      channel.close();
    }
  }

  private void connectFailed(Throwable cause) {
    cluster.recordFailure(endpoint);
    failWaiters(
        H2cStreamFailure.connect(
            UpstreamConnector.reasonOf(cause),
            "cannot connect to " + endpoint + ": " + cause.getMessage()));
  }

  private void failWaiters(H2cStreamFailure failure) {
    state = State.CLOSED;
    pool.closed(this);
    List<Waiter> failed = new ArrayList<>(waiting);
    waiting.clear();
    streams -= failed.size();
    failed.forEach(w -> w.then().accept(null, failure));
  }

  private void ready() {
    state = State.READY;
    List<Waiter> now = new ArrayList<>(waiting);
    waiting.clear();
    // The member's SETTINGS may allow fewer streams than were given while connecting: those
    // above its limit go back to the pool, which finds them another connection.
    int limit = streamLimit();
    for (int i = 0; i < now.size(); i++) {
      Waiter w = now.get(i);
      if (i < limit) {
        doOpen(w.handler(), w.then());
      } else {
        streams--;
        pool.openStream(endpoint, w.handler(), w.then());
      }
    }
  }

  private void goingAway(String why) {
    if (state == State.READY || state == State.CONNECTING) {
      log.debug(
          "upstream {} of cluster {}: {}; new streams go to another connection",
          endpoint,
          cluster.name(),
          why);
      state = State.GOING_AWAY;
      pool.closed(this);
      if (streams == 0) {
        channel.close();
      }
    }
  }

  private final class Initializer extends ChannelInitializer<Channel> {
    @Override
    protected void initChannel(Channel ch) {
      codec =
          Http2FrameCodecBuilder.forClient()
              .initialSettings(
                  Http2Settings.defaultSettings()
                      .pushEnabled(false)
                      .maxHeaderListSize(Http2Limits.MAX_HEADER_LIST_SIZE))
              .decoupleCloseAndGoAway(true)
              .build();
      long idleMillis = cluster.config().idleTimeout().toMillis();
      ch.pipeline()
          // Requests are written from the clients' reads: gather their flushes per loop turn.
          .addLast(Http2Flushing.gatheredPerLoopTurn())
          .addLast(codec)
          .addLast(new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS))
          .addLast(new Watcher())
          .addLast(new Http2MultiplexHandler(REFUSE_PUSH));
    }
  }

  /**
   * Push is off (SETTINGS_ENABLE_PUSH 0): a pushed stream is a protocol error of the member;
   * dropped.
   */
  private static final ChannelHandler REFUSE_PUSH = new RefusePush();

  @ChannelHandler.Sharable
  private static final class RefusePush extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }
  }

  /** Watches the connection's own frames and events: SETTINGS, GOAWAY, idleness, the close. */
  private final class Watcher extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      // The codec wrote the preface as the connection became active; then the connection window
      // (why: Http2Limits.CONNECTION_WINDOW).
      ctx.writeAndFlush(
          new DefaultHttp2WindowUpdateFrame(
              Http2Limits.CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
      super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2SettingsFrame && state == State.CONNECTING) {
        ready();
      } else if (msg instanceof Http2GoAwayFrame goAway) {
        goingAway(
            "GOAWAY(last stream " + goAway.lastStreamId() + ", error " + goAway.errorCode() + ")");
        // The multiplexer tells the streams above the last stream id.
        ctx.fireChannelRead(msg);
        return;
      }
      if (msg instanceof Http2SettingsFrame) {
        ReferenceCountUtil.release(msg);
        return;
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent && streams == 0) {
        goingAway("idle for " + cluster.config().idleTimeout());
        return;
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (state == State.CONNECTING) {
        failWaiters(
            H2cStreamFailure.connect(
                UpstreamErrorReason.CONNECT_FAILED,
                "upstream " + endpoint + " closed the connection before its SETTINGS"));
      } else {
        state = State.CLOSED;
        pool.closed(H2cConnection.this);
      }
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("upstream {} of cluster {}: {}", endpoint, cluster.name(), cause.toString());
      ctx.close();
    }
  }
}
