package io.baton.sidecar.warmup;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The clients of the warm-up: closed-loop HTTP/1.1 (keep-alive, or a new connection per request)
 * and h2c (several streams in flight per connection) against a warm-up listener. Each completes
 * with how many requests were answered with a 2xx; an error ends that connection, not the warm-up.
 */
final class WarmUpDriver {

  static final String PATH = "/baton-warm-up";

  private WarmUpDriver() {}

  /** {@code connections} keep-alive connections, {@code requests} in all, one at a time on each. */
  static CompletableFuture<Integer> http1KeepAlive(
      EventLoopGroup loops, InetSocketAddress target, int connections, int requests) {
    Quota quota = new Quota(requests, connections);
    for (int i = 0; i < connections; i++) {
      connectHttp1(loops, target, quota, true);
    }
    return quota.done;
  }

  /**
   * {@code requests} requests, each on a connection of its own ({@code Connection: close}), {@code
   * parallel} at a time.
   */
  static CompletableFuture<Integer> http1Close(
      EventLoopGroup loops, InetSocketAddress target, int parallel, int requests) {
    Quota quota = new Quota(requests, parallel);
    for (int i = 0; i < parallel; i++) {
      connectHttp1(loops, target, quota, false);
    }
    return quota.done;
  }

  /**
   * {@code connections} h2c connections, {@code streams} streams in all, {@code inFlight} at once
   * on each.
   */
  static CompletableFuture<Integer> h2c(
      EventLoopGroup loops, InetSocketAddress target, int connections, int inFlight, int streams) {
    Quota quota = new Quota(streams, connections * inFlight);
    for (int i = 0; i < connections; i++) {
      new Bootstrap()
          .group(loops)
          .channel(EpollSocketChannel.class)
          .handler(
              new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                  ch.pipeline()
                      .addLast(
                          Http2FrameCodecBuilder.forClient().build(),
                          new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                }
              })
          .connect(target)
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (!f.isSuccess()) {
                      for (int k = 0; k < inFlight; k++) {
                        quota.workerEnded();
                      }
                      return;
                    }
                    for (int k = 0; k < inFlight; k++) {
                      openStream(f.channel(), quota);
                    }
                  });
    }
    return quota.done;
  }

  private static void connectHttp1(
      EventLoopGroup loops, InetSocketAddress target, Quota quota, boolean keepAlive) {
    if (!quota.claim()) {
      quota.workerEnded();
      return;
    }
    new Bootstrap()
        .group(loops)
        .channel(EpollSocketChannel.class)
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast(
                        new HttpClientCodec(),
                        new HttpObjectAggregator(64 * 1024),
                        new Http1Exchange(loops, target, quota, keepAlive));
              }
            })
        .connect(target)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    f.channel().writeAndFlush(request(keepAlive));
                  } else {
                    quota.workerEnded();
                  }
                });
  }

  private static FullHttpRequest request(boolean keepAlive) {
    FullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, PATH);
    request.headers().set(HttpHeaderNames.HOST, "warm-up");
    if (!keepAlive) {
      request.headers().set(HttpHeaderNames.CONNECTION, "close");
    }
    return request;
  }

  private static void openStream(Channel connection, Quota quota) {
    if (!connection.isActive() || !quota.claim()) {
      quota.workerEnded();
      if (quota.idle()) {
        connection.close();
      }
      return;
    }
    new Http2StreamChannelBootstrap(connection)
        .handler(new StreamExchange(connection, quota))
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                quota.workerEnded();
                return;
              }
              Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
              stream.writeAndFlush(
                  new DefaultHttp2HeadersFrame(
                      new DefaultHttp2Headers()
                          .method("GET")
                          .scheme("http")
                          .authority("warm-up")
                          .path(PATH),
                      true));
            });
  }

  /**
   * One keep-alive connection's requests, one after the other, or one request of a close-mode
   * worker.
   */
  private static final class Http1Exchange extends SimpleChannelInboundHandler<FullHttpResponse> {
    private final EventLoopGroup loops;
    private final InetSocketAddress target;
    private final Quota quota;
    private final boolean keepAlive;
    private boolean answered;

    Http1Exchange(EventLoopGroup loops, InetSocketAddress target, Quota quota, boolean keepAlive) {
      this.loops = loops;
      this.target = target;
      this.quota = quota;
      this.keepAlive = keepAlive;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      answered = true;
      quota.answered(response.status().code() / 100 == 2);
      if (keepAlive && quota.claim()) {
        answered = false;
        ctx.writeAndFlush(request(true));
      } else if (keepAlive) {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!keepAlive && answered) {
        connectHttp1(
            loops, target, quota, false); // the next request of this worker, on a new connection
      } else {
        quota.workerEnded();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** One h2c stream; when it ends, the next one on the same connection. */
  private static final class StreamExchange extends SimpleChannelInboundHandler<Http2StreamFrame> {
    private final Channel connection;
    private final Quota quota;
    private boolean failed;
    private boolean finished;

    StreamExchange(Channel connection, Quota quota) {
      this.connection = connection;
      this.quota = quota;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
      if (frame instanceof Http2HeadersFrame h
          && h.headers().status() != null
          && !h.headers().status().toString().startsWith("2")) {
        failed = true;
      }
      boolean end =
          (frame instanceof Http2HeadersFrame h && h.isEndStream())
              || (frame instanceof Http2DataFrame d && d.isEndStream());
      if (end && !finished) {
        finished = true;
        quota.answered(!failed);
        ctx.close();
        openStream(connection, quota); // this worker goes on with the next stream
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      // A stream reset or a connection lost before the answer: this worker ends here.
      if (!finished) {
        finished = true;
        quota.workerEnded();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** How many requests are left to send, how many were answered, and when every worker is done. */
  private static final class Quota {
    private final AtomicInteger left;
    private final AtomicInteger ok = new AtomicInteger();
    private final AtomicInteger workers;
    final CompletableFuture<Integer> done = new CompletableFuture<>();

    Quota(int requests, int workers) {
      this.left = new AtomicInteger(requests);
      this.workers = new AtomicInteger(workers);
    }

    boolean claim() {
      return left.getAndDecrement() > 0;
    }

    void answered(boolean success) {
      if (success) {
        ok.incrementAndGet();
      }
    }

    boolean idle() {
      return workers.get() <= 0;
    }

    void workerEnded() {
      if (workers.decrementAndGet() == 0) {
        done.complete(ok.get());
      }
    }
  }
}
