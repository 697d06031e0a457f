package io.baton.sidecar.http2;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Frame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An h2c client with prior knowledge (Netty's codec, as a well-behaved client): one connection, a
 * stream per {@link #send}. The connection's own frames (GOAWAY, PING) land in {@link
 * #connectionFrames} for tests of the drain; Netty acks PINGs itself.
 */
public final class H2TestClient implements AutoCloseable {

  /** A stream's outcome: the response, or the RST_STREAM code that ended it. */
  public record Response(Http2Headers headers, byte[] body, Http2Headers trailers, long resetCode) {
    public String status() {
      return headers == null ? null : String.valueOf(headers.status());
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  public final BlockingQueue<String> connectionFrames = new LinkedBlockingQueue<>();
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final Channel channel;

  public H2TestClient(InetSocketAddress proxy) {
    channel =
        new Bootstrap()
            .group(group)
            .channel(EpollSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            Http2FrameCodecBuilder.forClient().build(),
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelActive(ChannelHandlerContext ctx) {
                                // As real clients do (grpc-java, browsers): a connection window far
                                // above one
                                // stream's, so a stream this client stops reading holds up only
                                // itself.
                                ctx.writeAndFlush(
                                    new DefaultHttp2WindowUpdateFrame(16 * 1024 * 1024));
                                ctx.fireChannelActive();
                              }

                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof Http2GoAwayFrame g) {
                                  connectionFrames.add(
                                      "GOAWAY " + g.lastStreamId() + " " + g.errorCode());
                                } else if (msg instanceof Http2PingFrame p && !p.ack()) {
                                  connectionFrames.add("PING");
                                }
                                ctx.fireChannelRead(msg);
                              }
                            },
                            new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                  }
                })
            .connect(proxy)
            .syncUninterruptibly()
            .channel();
  }

  public Channel channel() {
    return channel;
  }

  public static Http2Headers get(String path) {
    return new DefaultHttp2Headers().method("GET").path(path).scheme("http").authority("test");
  }

  public static Http2Headers post(String path) {
    return new DefaultHttp2Headers().method("POST").path(path).scheme("http").authority("test");
  }

  /** Sends a request with {@code body} in pieces and optional {@code trailers}. */
  public CompletableFuture<Response> send(
      Http2Headers headers, List<String> body, Http2Headers trailers) {
    return send(headers, body, trailers, true);
  }

  /**
   * Sends a request; with {@code reading} false its stream reads nothing of the response (a client
   * that stalls: its window fills and stays full).
   */
  public CompletableFuture<Response> send(
      Http2Headers headers, List<String> body, Http2Headers trailers, boolean reading) {
    CompletableFuture<Response> result = new CompletableFuture<>();
    Collector collector = new Collector(result);
    new Http2StreamChannelBootstrap(channel)
        .handler(collector)
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
              }
              Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
              stream.config().setAutoRead(reading);
              boolean headersOnly = body.isEmpty() && trailers == null;
              stream.write(new DefaultHttp2HeadersFrame(headers, headersOnly));
              for (int i = 0; i < body.size(); i++) {
                boolean last = i == body.size() - 1 && trailers == null;
                stream.write(
                    new DefaultHttp2DataFrame(
                        Unpooled.copiedBuffer(body.get(i), StandardCharsets.UTF_8), last));
              }
              if (trailers != null) {
                stream.write(new DefaultHttp2HeadersFrame(trailers, true));
              }
              stream.flush();
            });
    return result;
  }

  public CompletableFuture<Response> get(String path, Http2Headers extra) {
    Http2Headers h = get(path);
    if (extra != null) {
      h.add(extra);
    }
    return send(h, List.of(), null);
  }

  public boolean awaitClosed(long seconds) throws InterruptedException {
    return channel.closeFuture().await(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static final class Collector extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<Response> result;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private Http2Headers headers;

    Collector(CompletableFuture<Response> result) {
      this.result = result;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame h) {
          if (headers == null) {
            headers = h.headers();
            if (h.isEndStream()) {
              result.complete(new Response(headers, body.toByteArray(), null, -1));
            }
          } else {
            result.complete(new Response(headers, body.toByteArray(), h.headers(), -1));
          }
        } else if (msg instanceof Http2DataFrame d) {
          ByteBuf c = d.content();
          byte[] bytes = new byte[c.readableBytes()];
          c.readBytes(bytes);
          body.writeBytes(bytes);
          if (d.isEndStream()) {
            result.complete(new Response(headers, body.toByteArray(), null, -1));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2ResetFrame r) {
        result.complete(new Response(headers, body.toByteArray(), null, r.errorCode()));
      } else if (evt instanceof Http2Frame f) {
        ReferenceCountUtil.release(f);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      result.completeExceptionally(new IllegalStateException("stream closed without a response"));
    }
  }
}
