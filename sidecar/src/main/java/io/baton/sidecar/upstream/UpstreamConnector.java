package io.baton.sidecar.upstream;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.tls.UpstreamTls;
import io.baton.sidecar.tls.UpstreamTlsException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.ssl.SslHandler;

/** Opens upstream connections on the client connection's own event loop (no thread hop). */
public final class UpstreamConnector {

  private UpstreamConnector() {}

  /**
   * Connects to {@code endpoint} with the cluster's connect timeout; {@code handler} sets up the
   * pipeline. Reading starts only when {@code autoRead} is true. For a TLS cluster the future
   * completes once the TLS handshake is done too (it may take the connect timeout again); a failed
   * handshake, or one without the ALPN protocol the cluster needs ({@link
   * UpstreamTls#checkNegotiated}), fails it with {@link UpstreamTlsException} and closes the
   * connection.
   */
  public static ChannelFuture connect(
      Cluster cluster,
      EventLoop loop,
      HostPort endpoint,
      ChannelHandler handler,
      boolean autoRead,
      boolean allowHalfClosure) {
    UpstreamTls tls = cluster.tls();
    long timeoutMillis = cluster.config().connectTimeout().toMillis();
    // TCP_NODELAY is Netty's default for epoll channels (set once as the channel is built).
    ChannelFuture connect =
        new Bootstrap()
            .group(loop)
            .channel(EpollSocketChannel.class)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
            .option(ChannelOption.AUTO_READ, autoRead)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, allowHalfClosure)
            .handler(tls.enabled() ? withTls(tls, endpoint, timeoutMillis, handler) : handler)
            .connect(endpoint.toSocketAddress());
    if (!tls.enabled()) {
      return connect;
    }
    Channel channel = connect.channel();
    ChannelPromise ready = channel.newPromise();
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            ready.setFailure(f.cause());
            return;
          }
          SslHandler ssl = channel.pipeline().get(SslHandler.class);
          ssl.handshakeFuture()
              .addListener(
                  h -> {
                    Throwable refused = h.isSuccess() ? tls.checkNegotiated(ssl) : null;
                    if (h.isSuccess() && refused == null) {
                      ready.setSuccess();
                    } else if (refused != null) {
                      channel.close();
                      ready.setFailure(new UpstreamTlsException(endpoint, refused));
                    } else {
                      channel.close();
                      ready.setFailure(new UpstreamTlsException(endpoint, h.cause()));
                    }
                  });
        });
    return ready;
  }

  private static ChannelHandler withTls(
      UpstreamTls tls, HostPort endpoint, long timeoutMillis, ChannelHandler handler) {
    return new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        SslHandler ssl = tls.newHandler(ch.alloc(), endpoint);
        ssl.setHandshakeTimeoutMillis(timeoutMillis);
        ch.pipeline().addLast(ssl, handler);
      }
    };
  }

  /**
   * Whether {@code reason} says the member could not be reached (refused or timed-out connect, or a
   * failed TLS handshake, already counted against it): the request goes to a member it has not
   * tried.
   */
  public static boolean memberUnreachable(UpstreamErrorReason reason) {
    return reason == UpstreamErrorReason.CONNECT_FAILED
        || reason == UpstreamErrorReason.CONNECT_TIMEOUT
        || reason == UpstreamErrorReason.TLS_HANDSHAKE_FAILED;
  }

  /** The metrics reason of a failed connect. */
  public static UpstreamErrorReason reasonOf(Throwable connectFailure) {
    if (connectFailure instanceof UpstreamTlsException) {
      return UpstreamErrorReason.TLS_HANDSHAKE_FAILED;
    }
    return connectFailure instanceof ConnectTimeoutException
        ? UpstreamErrorReason.CONNECT_TIMEOUT
        : UpstreamErrorReason.CONNECT_FAILED;
  }
}
