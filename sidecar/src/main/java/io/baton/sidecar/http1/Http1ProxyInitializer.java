package io.baton.sidecar.http1;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

/** PLACEHOLDER until the real proxy lands. */
@ChannelHandler.Sharable
public final class Http1ProxyInitializer extends ChannelInitializer<Channel> {
  public Http1ProxyInitializer(ListenerContext ctx) {}

  @Override
  protected void initChannel(Channel ch) {}
}
