package io.baton.sidecar.tls;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.testsupport.TestCertificates;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/2-over-TLS member for the tests, on loopback, with the given certificate and ALPN
 * protocols. Every stream is answered when the request ends: {@code :status 200}, {@code
 * content-type} as asked, body {@code "<path> on connection <n>"} and trailers {@code grpc-status
 * 0}.
 */
final class H2TlsUpstream implements AutoCloseable {

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final Channel server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger streams = new AtomicInteger();

  /**
   * @param alpn what the member selects from; none: no ALPN at all (an HTTPS server unaware of h2)
   */
  H2TlsUpstream(TestCertificates.Pair cert, String... alpn) throws Exception {
    SslContextBuilder builder =
        SslContextBuilder.forServer(cert.certificate().toFile(), cert.privateKey().toFile())
            .sslProvider(SslProvider.OPENSSL);
    if (alpn.length > 0) {
      builder.applicationProtocolConfig(
          new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              alpn));
    }
    SslContext ssl = builder.build();
    server =
        new ServerBootstrap()
            .group(group)
            .channel(EpollServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    int connection = connections.incrementAndGet();
                    ch.pipeline()
                        .addLast(
                            ssl.newHandler(ch.alloc()),
                            Http2FrameCodecBuilder.forServer().build(),
                            new Http2MultiplexHandler(
                                new ChannelInitializer<Http2StreamChannel>() {
                                  @Override
                                  protected void initChannel(Http2StreamChannel stream) {
                                    stream.pipeline().addLast(new Answer(connection));
                                  }
                                }));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .syncUninterruptibly()
            .channel();
  }

  HostPort endpoint() {
    return new HostPort("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort());
  }

  int connectionsAccepted() {
    return connections.get();
  }

  int streamsReceived() {
    return streams.get();
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Answer extends ChannelInboundHandlerAdapter {
    private final int connection;
    private Http2Headers request;

    Answer(int connection) {
      this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame h && request == null) {
          request = h.headers();
          streams.incrementAndGet();
        }
        if (msg instanceof Http2StreamFrame && endsStream(msg)) {
          CharSequence type = request.get("content-type");
          Http2Headers headers =
              new DefaultHttp2Headers()
                  .status("200")
                  .set("content-type", type == null ? "text/plain" : type);
          ctx.write(new DefaultHttp2HeadersFrame(headers, false));
          String body = request.path() + " on connection " + connection;
          ctx.write(
              new DefaultHttp2DataFrame(
                  Unpooled.copiedBuffer(body, StandardCharsets.UTF_8), false));
          ctx.writeAndFlush(
              new DefaultHttp2HeadersFrame(
                  new DefaultHttp2Headers().set("grpc-status", "0"), true));
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private boolean endsStream(Object msg) {
      return msg instanceof Http2HeadersFrame h
          ? h.isEndStream()
          : msg instanceof Http2DataFrame d && d.isEndStream();
    }
  }
}
