package io.baton.sidecar.http1;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The end of an HTTP/1.1 client connection whose last response said {@code Connection: close}: shut
 * our output (FIN after the response), read and discard until the client closes, so that unread
 * input cannot turn our close into a reset that destroys the response in the client's buffer. The
 * connection closes anyway after a grace period.
 */
final class GracefulClose {

  private static final long CLOSE_GRACE_SECONDS = 5;

  private GracefulClose() {}

  /** Starts the close of {@code ctx}'s connection; call on its event loop. */
  static void start(ChannelHandlerContext ctx) {
    Channel ch = ctx.channel();
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls != null && ch instanceof DuplexChannel duplex) {
      // TLS: close_notify first, so that the client reads a clean end (OpenSSL 3 calls a FIN
      // without it an "unexpected eof"), then the FIN.
      tls.closeOutbound().addListener(f -> duplex.shutdownOutput().addListener(g -> readToEnd(ch)));
      closeAfterGrace(ch);
    } else if (ch instanceof DuplexChannel duplex) {
      duplex.shutdownOutput().addListener(f -> readToEnd(ch));
      closeAfterGrace(ch);
    } else {
      ch.close();
    }
  }

  /**
   * Closes the connection after the grace period unless the client closed it first; then the timer
   * is cancelled at once: under a {@code Connection: close} load, thousands of finished connections
   * a second would otherwise wait 5 s each in the event loop's timer queue, kept reachable (and
   * promoted to the old generation) by their timers.
   */
  private static void closeAfterGrace(Channel ch) {
    ScheduledFuture<?> grace =
        ch.eventLoop().schedule(() -> ch.close(), CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
    ch.closeFuture().addListener(f -> grace.cancel(false));
  }

  /** Reads (and, in CLOSING, discards) what the client still sends, until its EOF. */
  private static void readToEnd(Channel ch) {
    ch.config().setAutoRead(true);
  }
}
