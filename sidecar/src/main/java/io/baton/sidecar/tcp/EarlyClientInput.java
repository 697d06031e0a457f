package io.baton.sidecar.tcp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds what a client connection delivers before its relay exists (while the upstream connection is
 * being made), and hands it to the relay once it does.
 *
 * <p>Reads are off until then, but that does not stop Netty's epoll transport from reading a client
 * that half-closes: {@code EPOLLRDHUP} is always in an epoll stream channel's interest set, and
 * {@code AbstractEpollChannel.AbstractEpollUnsafe.epollRdHupReady()} calls {@code epollInReady()}
 * whatever {@code AUTO_READ} says (so as not to miss data before the FIN, netty issue 3709). That
 * reads every byte up to the EOF, fires each as {@code channelRead}, then shuts the input and fires
 * {@link ChannelInputShutdownEvent}. Without this handler all of it reached the pipeline's tail,
 * which drops it: the upstream got neither the bytes nor the EOF, and the client, whose emptied fd
 * Netty had meanwhile taken out of epoll, was closed by the {@code EPOLL_CTL_MOD} ENOENT of turning
 * its reads on (see {@code EpollHalfCloseRepair}).
 *
 * <p>What it holds is bounded by the client socket's receive buffer: the client could send no more
 * before its FIN without Netty reading.
 */
final class EarlyClientInput extends ChannelInboundHandlerAdapter {

  private List<Object> held = new ArrayList<>();
  private boolean inputEnded;
  private ChannelHandlerContext ctx;

  /** Whether the client already sent its EOF: its socket has nothing more to read. */
  boolean inputEnded() {
    return inputEnded;
  }

  /**
   * Leaves the pipeline, passing what it held to the handlers added after it (the relay): the bytes
   * in order, then the EOF if it came. Call on the event loop.
   */
  void handOver() {
    List<Object> bytes = held;
    held = new ArrayList<>();
    ChannelPipeline pipeline = ctx.pipeline();
    pipeline.remove(this);
    for (Object msg : bytes) {
      pipeline.fireChannelRead(msg);
    }
    if (inputEnded) {
      pipeline.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    held.add(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      inputEnded = true;
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    // The client closed before a relay took over (or this handed over, and holds nothing).
    held.forEach(ReferenceCountUtil::release);
    held.clear();
  }
}
