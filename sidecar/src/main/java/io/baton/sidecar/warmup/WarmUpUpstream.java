package io.baton.sidecar.warmup;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The upstream of the warm-up: answers every HTTP/1.1 request (keep-alive) or h2c stream (prior
 * knowledge) with a small 200, on 127.0.0.1:0 of the process's own event loops.
 */
final class WarmUpUpstream implements AutoCloseable {

  private static final byte[] BODY = "warm\n".getBytes(StandardCharsets.US_ASCII);

  private final Channel server;

  /** Its accepted connections: closed with it, so that the warm-up clusters' pools keep none. */
  private final ChannelGroup accepted;

  private WarmUpUpstream(Channel server, ChannelGroup accepted) {
    this.server = server;
    this.accepted = accepted;
  }

  static WarmUpUpstream http1(EventLoopGroup loops) {
    return start(
        loops,
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new Http1Answer());
          }
        });
  }

  static WarmUpUpstream h2c(EventLoopGroup loops) {
    return start(
        loops,
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline()
                .addLast(
                    Http2FrameCodecBuilder.forServer().build(),
                    new Http2MultiplexHandler(
                        new ChannelInitializer<Channel>() {
                          @Override
                          protected void initChannel(Channel stream) {
                            stream.pipeline().addLast(new Http2Answer());
                          }
                        }));
          }
        });
  }

  private static WarmUpUpstream start(EventLoopGroup loops, ChannelHandler initializer) {
    ChannelGroup accepted = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    Channel server =
        new ServerBootstrap()
            .group(loops)
            .channel(EpollServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    accepted.add(ch);
                    ch.pipeline().addLast(initializer);
                  }
                })
            .bind("127.0.0.1", 0)
            .syncUninterruptibly()
            .channel();
    return new WarmUpUpstream(server, accepted);
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    accepted.close().awaitUninterruptibly();
  }

  private static final class Http1Answer extends SimpleChannelInboundHandler<HttpObject> {
    private boolean keepAlive = true;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest request) {
        keepAlive = HttpUtil.isKeepAlive(request);
      }
      if (msg instanceof LastHttpContent) {
        FullHttpResponse response =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(BODY));
        HttpUtil.setContentLength(response, BODY.length);
        if (!keepAlive) {
          response.headers().set(HttpHeaderNames.CONNECTION, "close");
          ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
          ctx.writeAndFlush(response);
        }
      }
    }
  }

  private static final class Http2Answer extends SimpleChannelInboundHandler<Http2StreamFrame> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
      boolean end =
          (frame instanceof Http2HeadersFrame h && h.isEndStream())
              || (frame instanceof Http2DataFrame d && d.isEndStream());
      if (end) {
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
        ByteBuf body = Unpooled.wrappedBuffer(BODY);
        ctx.writeAndFlush(new DefaultHttp2DataFrame(body, true));
      }
    }
  }
}
