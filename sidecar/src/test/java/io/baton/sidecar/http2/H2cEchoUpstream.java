package io.baton.sidecar.http2;

import io.baton.sidecar.config.HostPort;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An h2c upstream (prior knowledge) for the proxy's unit tests, on loopback. Every stream is
 * answered {@code :status 200} with the request body streamed back as it arrives and trailers
 * {@code x-echo-trailer} (the request's trailer of that name, or "none") and {@code grpc-status 0}.
 * Path {@code /hold} answers its headers only when the test calls {@link #releaseHeld()}. Path
 * {@code /reset} resets the stream with INTERNAL_ERROR, {@code /reset-mid-response} does so after
 * its headers and some DATA. Path {@code /stall} answers its headers and never reads the request
 * body.
 */
public final class H2cEchoUpstream implements AutoCloseable {

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final Channel server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger streams = new AtomicInteger();
  private final AtomicInteger requestsEnded = new AtomicInteger();
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger maxActive = new AtomicInteger();
  private final Queue<Runnable> held = new ConcurrentLinkedQueue<>();
  private volatile boolean goAwayOnSecondStreamOfFirstConnection;

  public H2cEchoUpstream(int maxConcurrentStreams) {
    server =
        new ServerBootstrap()
            .group(group)
            .channel(EpollServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    int connection = connections.incrementAndGet();
                    Http2FrameCodec codec =
                        Http2FrameCodecBuilder.forServer()
                            .initialSettings(
                                Http2Settings.defaultSettings()
                                    .maxConcurrentStreams(maxConcurrentStreams))
                            .build();
                    AtomicInteger streamsHere = new AtomicInteger();
                    ch.pipeline()
                        .addLast(
                            codec,
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelActive(ChannelHandlerContext ctx) {
                                // As real servers do: a connection window far above one stream's
                                // (see /stall).
                                ctx.writeAndFlush(
                                    new DefaultHttp2WindowUpdateFrame(16 * 1024 * 1024));
                                ctx.fireChannelActive();
                              }
                            },
                            new Http2MultiplexHandler(
                                new ChannelInitializer<Http2StreamChannel>() {
                                  @Override
                                  protected void initChannel(Http2StreamChannel stream) {
                                    stream
                                        .pipeline()
                                        .addLast(
                                            new Echo(
                                                codec, connection, streamsHere.incrementAndGet()));
                                  }
                                }));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .syncUninterruptibly()
            .channel();
  }

  public HostPort endpoint() {
    return new HostPort("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
  }

  /**
   * The first connection answers its second stream with GOAWAY(last stream: the first): never
   * processed.
   */
  public H2cEchoUpstream goAwayOnSecondStream() {
    goAwayOnSecondStreamOfFirstConnection = true;
    return this;
  }

  public int connectionsAccepted() {
    return connections.get();
  }

  public int streamsReceived() {
    return streams.get();
  }

  /** Requests whose end (END_STREAM) reached this upstream. */
  public int requestsEnded() {
    return requestsEnded.get();
  }

  public int maxConcurrentStreamsSeen() {
    return maxActive.get();
  }

  public int heldStreams() {
    return held.size();
  }

  public void releaseHeld() {
    Runnable r;
    while ((r = held.poll()) != null) {
      r.run();
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Echo extends ChannelInboundHandlerAdapter {
    private final Http2FrameCodec codec;
    private final int connection;
    private final int streamOnConnection;
    private boolean headersSent;
    private boolean holding;
    private final Queue<Object> whileHeld = new ConcurrentLinkedQueue<>();

    Echo(Http2FrameCodec codec, int connection, int streamOnConnection) {
      this.codec = codec;
      this.connection = connection;
      this.streamOnConnection = streamOnConnection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Http2HeadersFrame h && !headersSent && !holding) {
        if (goAwayOnSecondStreamOfFirstConnection && connection == 1 && streamOnConnection == 2) {
          Channel parent = ctx.channel().parent();
          // The last stream processed is the one before this: this one and any later were not.
          int lastProcessed = ((Http2StreamChannel) ctx.channel()).stream().id() - 2;
          codec.goAway(
              parent.pipeline().context(codec),
              lastProcessed,
              Http2Error.NO_ERROR.code(),
              Unpooled.EMPTY_BUFFER,
              parent.newPromise());
          parent.flush();
          return;
        }
        streams.incrementAndGet();
        maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
        ctx.channel().closeFuture().addListener(f -> active.decrementAndGet());
        String path = String.valueOf(h.headers().path());
        if (path.equals("/stall")) {
          // Answers at once and then reads nothing: the request body stops at the stream's window.
          sendHeaders(ctx);
          ctx.channel().config().setAutoRead(false);
          return;
        }
        if (path.equals("/reset-mid-response")) {
          sendHeaders(ctx);
          // The reset after the DATA has left (a reset written at once would cancel the queued
          // DATA).
          ctx.writeAndFlush(
                  new DefaultHttp2DataFrame(
                      Unpooled.copiedBuffer("partial", StandardCharsets.UTF_8), false))
              .addListener(
                  f -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR)));
          return;
        }
        if (path.equals("/reset")) {
          ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
          return;
        }
        if (path.equals("/hold")) {
          holding = true;
          held.add(
              () ->
                  ctx.executor()
                      .execute(
                          () -> {
                            holding = false;
                            sendHeaders(ctx);
                            Object o;
                            while ((o = whileHeld.poll()) != null) {
                              channelRead(ctx, o);
                            }
                          }));
          if (h.isEndStream()) {
            whileHeld.add(new EndMarker(new DefaultHttp2Headers()));
          }
          return;
        }
        sendHeaders(ctx);
        if (h.isEndStream()) {
          end(ctx, null);
        }
        return;
      }
      if (holding) {
        whileHeld.add(msg);
        return;
      }
      if (msg instanceof EndMarker) {
        end(ctx, null);
      } else if (msg instanceof Http2DataFrame d) {
        boolean last = d.isEndStream();
        ctx.writeAndFlush(new DefaultHttp2DataFrame(d.content(), false));
        if (last) {
          end(ctx, null);
        }
      } else if (msg instanceof Http2HeadersFrame trailers) {
        end(ctx, trailers.headers());
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    private void sendHeaders(ChannelHandlerContext ctx) {
      headersSent = true;
      ctx.writeAndFlush(
          new DefaultHttp2HeadersFrame(
              new DefaultHttp2Headers()
                  .status("200")
                  .set("content-type", "application/octet-stream")
                  .set("x-upstream-connection", Integer.toString(connection))));
    }

    private void end(ChannelHandlerContext ctx, Http2Headers requestTrailers) {
      requestsEnded.incrementAndGet();
      CharSequence echoed = requestTrailers == null ? null : requestTrailers.get("x-echo-trailer");
      ctx.writeAndFlush(
          new DefaultHttp2HeadersFrame(
              new DefaultHttp2Headers()
                  .set("x-echo-trailer", echoed == null ? "none" : echoed)
                  .set("grpc-status", "0"),
              true));
    }
  }

  /** The request ended with its headers while the stream was held. */
  private record EndMarker(Http2Headers unused) {}
}
