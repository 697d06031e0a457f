package io.baton.sidecar.h2c;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;

/**
 * Streams of the h2c upstream pool for the HTTP/1.1 proxy: an HTTP/1.1 client's exchange with an
 * {@code h2c} cluster runs on one stream, which the caller's {@code handler} turns into HTTP/1.1
 * objects (Netty's {@code Http2StreamFrameToHttpObjectCodec}), so it looks like an upstream
 * connection used once.
 */
public final class H2cStreams {

  /** What became of the stream. */
  public interface Opened {
    void opened(Channel stream);

    /**
     * No stream: {@code connectFailure} when the member could not be reached (already counted
     * against it), else the connection went away before the stream opened.
     */
    void failed(UpstreamErrorReason reason, String detail, boolean connectFailure);
  }

  private H2cStreams() {}

  /** Opens a stream to {@code endpoint} on {@code loop}'s pool; call on {@code loop}. */
  public static void open(
      Cluster cluster, EventLoop loop, HostPort endpoint, ChannelHandler handler, Opened then) {
    H2cPool.of(cluster, loop)
        .openStream(
            endpoint,
            handler,
            (stream, failure) -> {
              if (stream != null) {
                then.opened(stream);
              } else {
                boolean connect = UpstreamConnector.memberUnreachable(failure.reason());
                then.failed(failure.reason(), failure.detail(), connect);
              }
            });
  }
}
