package io.baton.sidecar.http1;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;

/** The pipeline of one client connection of an {@code http} listener. */
@ChannelHandler.Sharable
public final class Http1ProxyInitializer extends ChannelInitializer<Channel> {

  private final ListenerContext context;

  public Http1ProxyInitializer(ListenerContext context) {
    this.context = context;
  }

  @Override
  protected void initChannel(Channel ch) {
    Http1RequestDecoder decoder = new Http1RequestDecoder();
    Http1ResponseEncoder encoder = new Http1ResponseEncoder();
    ch.pipeline()
        .addLast(decoder)
        .addLast(encoder)
        // Answers "Expect: 100-continue" at once and removes the header before it goes upstream.
        .addLast(new HttpServerExpectContinueHandler())
        .addLast(new Http1ProxyHandler(context, decoder, encoder));
  }
}
