package io.baton.sidecar.httpserver;

import io.baton.sidecar.http1.Http1ProxyInitializer;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.TlsMetrics;
import io.baton.sidecar.tls.TlsHandshakeObserver;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslContext;

/**
 * The pipeline of one client connection of a TLS listener: TLS, then {@link AlpnSeam} picks the
 * HTTP pipeline. SslHandler's own handshake timeout (10 s) ends a client that never finishes one.
 */
@ChannelHandler.Sharable
public final class TlsListenerInitializer extends ChannelInitializer<Channel> {

  private final ListenerContext context;
  private final SslContext ssl;
  private final TlsMetrics metrics;
  private final Http1ProxyInitializer http1;

  public TlsListenerInitializer(ListenerContext context, SslContext ssl, TlsMetrics metrics) {
    this.context = context;
    this.ssl = ssl;
    this.metrics = metrics;
    this.http1 = new Http1ProxyInitializer(context);
  }

  @Override
  protected void initChannel(Channel ch) {
    ch.pipeline()
        .addLast(ssl.newHandler(ch.alloc()))
        .addLast(new TlsHandshakeObserver(context.name(), metrics))
        .addLast(new AlpnSeam(context, http1));
  }
}
