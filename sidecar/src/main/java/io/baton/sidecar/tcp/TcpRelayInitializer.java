package io.baton.sidecar.tcp;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

/** PLACEHOLDER until the real proxy lands. */
@ChannelHandler.Sharable
public final class TcpRelayInitializer extends ChannelInitializer<Channel> {
  public TcpRelayInitializer(ListenerContext ctx) {}

  @Override
  protected void initChannel(Channel ch) {}
}
