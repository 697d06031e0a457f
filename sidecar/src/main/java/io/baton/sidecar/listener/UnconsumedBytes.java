package io.baton.sidecar.listener;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The first reads of a connection moved from the predecessor: the bytes it had read and not served,
 * delivered right after the connection becomes active. The socket is read only after channelActive
 * has gone through the whole pipeline, so nothing can overtake them.
 */
final class UnconsumedBytes extends ChannelInboundHandlerAdapter {

  private byte[] bytes;

  UnconsumedBytes(byte[] bytes) {
    this.bytes = bytes;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.fireChannelActive();
    byte[] first = bytes;
    bytes = null;
    ctx.pipeline().remove(this);
    ctx.fireChannelRead(Unpooled.wrappedBuffer(first));
    ctx.fireChannelReadComplete();
  }
}
