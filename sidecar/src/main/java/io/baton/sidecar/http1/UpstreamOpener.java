package io.baton.sidecar.http1;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.Http1UpstreamInitializer;
import io.baton.sidecar.upstream.UpstreamConnector;
import io.baton.sidecar.upstream.UpstreamPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;

/**
 * The upstream channel of one HTTP/1.1 exchange with one member: a pooled keep-alive connection of
 * the event loop, a new connection, or, for an {@code h2c} cluster, a stream ({@link
 * H2cUpstreamStream}).
 */
final class UpstreamOpener {

  /** The exchange that asks, told on its event loop. */
  interface Attempt {
    /** Whether it is still its connection's current exchange (the client may have gone). */
    boolean current();

    /** No channel at hand: opening one takes a while. */
    void connecting();

    /**
     * Write the request on {@code upstream}.
     *
     * @param pooled whether it came from the keep-alive pool rather than a connect of its own
     * @param singleUse an h2c stream: never returned to the pool
     */
    void attached(Channel upstream, boolean pooled, boolean singleUse);

    /**
     * The member could not be reached; nothing of the request was sent.
     *
     * @param counted whether the failure is already counted against the member (by the h2c pool)
     */
    void unreachable(UpstreamErrorReason reason, String detail, boolean counted);

    /** The h2c connection went away before the stream opened. */
    void refused(UpstreamErrorReason reason, String detail);
  }

  private UpstreamOpener() {}

  /** Gets {@code attempt} a channel to {@code endpoint} on {@code loop}; call on {@code loop}. */
  static void open(ListenerContext context, EventLoop loop, HostPort endpoint, Attempt attempt) {
    if (context.clusterConfig().protocol().http2()) {
      H2cUpstreamStream.open(context, loop, endpoint, attempt);
      return;
    }
    UpstreamPool pool = context.cluster().pool(loop);
    Channel pooled = pool.poll(endpoint);
    if (pooled != null) {
      attempt.attached(pooled, true, false);
      return;
    }
    attempt.connecting();
    ChannelFuture connect =
        UpstreamConnector.connect(
            context.cluster(),
            loop,
            endpoint,
            new Http1UpstreamInitializer(context.cluster(), endpoint),
            true,
            false);
    connect.addListener(
        f -> {
          if (!attempt.current()) {
            connect.channel().close(); // the client went away meanwhile
            return;
          }
          if (f.isSuccess()) {
            attempt.attached(connect.channel(), false, false);
          } else {
            attempt.unreachable(
                UpstreamConnector.reasonOf(f.cause()),
                "cannot connect to " + endpoint + ": " + f.cause().getMessage(),
                false);
          }
        });
  }
}
