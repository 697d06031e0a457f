package io.baton.sidecar.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerTlsConfig;
import io.baton.sidecar.testsupport.ProxyUnderTest;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.testkit.upstream.TestUpstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ALPN {@code h2} on a TLS listener: the HTTP/2 frontend behind the TLS handler, drained by GOAWAY.
 */
@Timeout(60)
class TlsH2Test {

  @TempDir Path dir;

  private final TestUpstream upstream = TestUpstream.start(0);
  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private ProxyUnderTest proxy;

  @AfterEach
  void cleanUp() {
    if (proxy != null) {
      proxy.close();
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    upstream.close();
  }

  @Test
  void anH2ClientGetsHttp2OverTlsAndItsDrainIsAGoaway() throws Exception {
    TestCertificates.Pair cert = TestCertificates.selfSigned(dir, "web", "localhost");
    proxy =
        ProxyUnderTest.https(
            new ListenerTlsConfig(cert.certificate(), cert.privateKey()),
            List.of(
                SessionTickets.start(List.of(), List.of("web"), new SecureRandom()).ring("web")),
            new HostPort("127.0.0.1", upstream.port()));
    SslContext client =
        SslContextBuilder.forClient()
            .trustManager(cert.certificate().toFile())
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2))
            .build();
    BlockingQueue<String> goaways = new LinkedBlockingQueue<>();
    Channel connection =
        new Bootstrap()
            .group(group)
            .channel(EpollSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(
                            client.newHandler(ch.alloc(), "localhost", proxy.address().getPort()),
                            Http2FrameCodecBuilder.forClient().build(),
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof Http2GoAwayFrame g) {
                                  goaways.add("GOAWAY " + g.lastStreamId());
                                }
                                ctx.fireChannelRead(msg);
                              }
                            },
                            new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                  }
                })
            .connect(proxy.address())
            .syncUninterruptibly()
            .channel();
    SslHandler ssl = connection.pipeline().get(SslHandler.class);
    assertThat(ssl.handshakeFuture().await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ssl.applicationProtocol()).isEqualTo("h2");

    assertThat(get(connection, "/load/h2-tls-1").get(10, TimeUnit.SECONDS)).isEqualTo("200");
    assertThat(get(connection, "/load/h2-tls-2").get(10, TimeUnit.SECONDS)).isEqualTo("200");
    assertThat(upstream.idCounts()).containsOnlyKeys("h2-tls-1", "h2-tls-2");

    proxy.startDrain();
    assertThat(goaways.poll(10, TimeUnit.SECONDS))
        .as("the first GOAWAY of the two-phase drain")
        .isEqualTo("GOAWAY 2147483647");
    // Netty's client opened streams 3 and 5 (1 is left to an h2c upgrade).
    assertThat(goaways.poll(10, TimeUnit.SECONDS))
        .as("then the final one, naming the last stream")
        .isEqualTo("GOAWAY 5");
    assertThat(connection.closeFuture().await(10, TimeUnit.SECONDS))
        .as("then the connection closes")
        .isTrue();
    assertThat(proxy.metrics.scrape())
        .contains("baton_tls_handshakes_total{listener=\"web\",result=\"ok\"} 1.0");
  }

  private static CompletableFuture<String> get(Channel connection, String path) {
    CompletableFuture<String> status = new CompletableFuture<>();
    new Http2StreamChannelBootstrap(connection)
        .handler(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                  if (msg instanceof Http2HeadersFrame h && !status.isDone()) {
                    status.complete(String.valueOf(h.headers().status()));
                  } else if (msg instanceof Http2DataFrame) {
                    // the body: not needed
                  }
                } finally {
                  ReferenceCountUtil.release(msg);
                }
              }
            })
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                status.completeExceptionally(f.cause());
                return;
              }
              ((Http2StreamChannel) f.getNow())
                  .writeAndFlush(
                      new DefaultHttp2HeadersFrame(
                          new DefaultHttp2Headers()
                              .method("GET")
                              .path(path)
                              .scheme("https")
                              .authority("localhost"),
                          true));
            });
    return status;
  }
}
