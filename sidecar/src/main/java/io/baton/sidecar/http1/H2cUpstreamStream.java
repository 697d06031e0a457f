package io.baton.sidecar.http1;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.h2c.H2cStreams;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.metrics.UpstreamErrorReason;
import io.baton.sidecar.upstream.Http1UpstreamHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

/**
 * The upstream channel of one HTTP/1.1 exchange with a member of an {@code h2c} cluster: a stream
 * of the h2c pool translated to and from HTTP/1.1 objects by Netty's codec, so that the exchange
 * sees an upstream connection that is never reused. A stream refused after it opened is not sent
 * again (the body is streamed, not kept): the client gets 502.
 */
final class H2cUpstreamStream {

  private H2cUpstreamStream() {}

  /** Gets {@code attempt} a stream to {@code endpoint} on {@code loop}; call on {@code loop}. */
  static void open(
      ListenerContext context, EventLoop loop, HostPort endpoint, UpstreamOpener.Attempt attempt) {
    attempt.connecting();
    ChannelInitializer<Channel> streamPipeline =
        new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline()
                .addLast(
                    new Http2StreamFrameToHttpObjectCodec(false),
                    new Http1UpstreamHandler(context.cluster(), endpoint));
          }
        };
    H2cStreams.open(
        context.cluster(),
        loop,
        endpoint,
        streamPipeline,
        new H2cStreams.Opened() {
          @Override
          public void opened(Channel stream) {
            if (!attempt.current()) {
              stream.close(); // the client went away meanwhile
            } else {
              attempt.attached(stream, false, true);
            }
          }

          @Override
          public void failed(UpstreamErrorReason reason, String detail, boolean connectFailure) {
            if (!attempt.current()) {
              return;
            }
            if (connectFailure) {
              attempt.unreachable(reason, detail, true);
            } else {
              attempt.refused(reason, detail);
            }
          }
        });
  }
}
