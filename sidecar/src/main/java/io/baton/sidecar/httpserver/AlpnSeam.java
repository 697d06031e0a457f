package io.baton.sidecar.httpserver;

import io.baton.sidecar.http1.Http1ProxyInitializer;
import io.baton.sidecar.http2.Http2Frontend;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.tls.AlpnProtocols;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/**
 * Where a TLS connection becomes HTTP: once the handshake is done, the protocol ALPN chose decides
 * the rest of the pipeline. {@code http/1.1}, or no ALPN at all: the same HTTP/1.1 proxy a
 * plain-text listener runs. {@code h2}: the HTTP/2 frontend ({@link Http2Frontend#install}), behind
 * the TLS handler. A TLS connection is never moved, whichever: HTTP/1.1 drains with {@code
 * Connection: close}, HTTP/2 with its two-phase GOAWAY. Bytes that arrive before the decision wait
 * here and go to the protocol chosen.
 */
final class AlpnSeam extends ApplicationProtocolNegotiationHandler {

  private final ListenerContext context;
  private final Http1ProxyInitializer http1;

  AlpnSeam(ListenerContext context, Http1ProxyInitializer http1) {
    super(AlpnProtocols.FALLBACK);
    this.context = context;
    this.http1 = http1;
  }

  @Override
  protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
    if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
      ctx.pipeline().addLast(http1);
      return;
    }
    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
      Http2Frontend.install(ctx.pipeline(), context);
      return;
    }
    throw new IllegalStateException(
        "listener "
            + context.name()
            + ": ALPN chose \""
            + protocol
            + "\" (expected one of "
            + AlpnProtocols.advertised()
            + ")");
  }

  @Override
  protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // TlsHandshakeObserver counted and logged it
  }
}
