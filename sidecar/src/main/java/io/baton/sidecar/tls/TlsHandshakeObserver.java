package io.baton.sidecar.tls;

import io.baton.sidecar.metrics.TlsMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.internal.tcnative.SSL;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits behind a client connection's {@link SslHandler} until its handshake ends: counts it (ok,
 * failed, resumed) and, for a failure, logs the peer and why, then closes the connection. A
 * plaintext client or garbage is one failed handshake of one connection; nobody else notices.
 */
public final class TlsHandshakeObserver extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(TlsHandshakeObserver.class);
  private static final int MAX_REASON = 200;

  private final String listener;
  private final TlsMetrics metrics;
  private boolean failed;

  public TlsHandshakeObserver(String listener, TlsMetrics metrics) {
    this.listener = listener;
    this.metrics = metrics;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent done) {
      if (done.isSuccess()) {
        metrics.handshakeSucceeded(resumed(ctx.pipeline().get(SslHandler.class)));
        ctx.pipeline().remove(this);
      } else if (!failed) {
        failed = true;
        metrics.handshakeFailed();
        log.warn(
            "listener {}: TLS handshake with {} failed: {}",
            listener,
            ctx.channel().remoteAddress(),
            reason(done.cause()));
        ctx.close();
      }
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Before the handshake succeeded, an exception is the handshake's failure, counted and logged
    // above: it ends here instead of reaching the pipeline's tail as a stack trace.
    log.debug(
        "listener {}: TLS connection from {} before its handshake: {}",
        listener,
        ctx.channel().remoteAddress(),
        cause.toString());
    ctx.close();
  }

  /**
   * Whether OpenSSL resumed a session (a ticket, or its session cache) rather than doing a full
   * handshake. The engine keeps this to itself; tcnative's SSL.isSessionReused asks OpenSSL.
   */
  private static boolean resumed(SslHandler ssl) {
    if (ssl == null) {
      return false;
    }
    SSLEngine engine = ssl.engine();
    if (!(engine instanceof ReferenceCountedOpenSslEngine openSsl)) {
      return false;
    }
    long pointer = openSsl.sslPointer();
    return pointer != 0 && SSL.isSessionReused(pointer);
  }

  /** Why, in a line: never the client's bytes (a plaintext request may carry credentials). */
  static String reason(Throwable cause) {
    Throwable c =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (c instanceof NotSslRecordException) {
      return "not a TLS record (a plaintext client, or garbage)";
    }
    String text = c == null ? "unknown" : c.getClass().getSimpleName() + ": " + c.getMessage();
    return text.length() > MAX_REASON ? text.substring(0, MAX_REASON) + "..." : text;
  }
}
