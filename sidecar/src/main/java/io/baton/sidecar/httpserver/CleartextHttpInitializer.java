package io.baton.sidecar.httpserver;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;

/**
 * The pipeline of one client connection of an {@code http} listener: HTTP/1.1, or HTTP/2 with prior
 * knowledge (h2c), told apart by the first bytes (see {@link PriorKnowledgeSniffer}). A connection
 * moved here from the predecessor gets it too: its already-read bytes go through the sniffer first.
 */
@ChannelHandler.Sharable
public final class CleartextHttpInitializer extends ChannelInitializer<Channel> {

  private final ListenerContext context;

  public CleartextHttpInitializer(ListenerContext context) {
    this.context = context;
  }

  @Override
  protected void initChannel(Channel ch) {
    ch.pipeline().addLast(new PriorKnowledgeSniffer(context));
  }
}
