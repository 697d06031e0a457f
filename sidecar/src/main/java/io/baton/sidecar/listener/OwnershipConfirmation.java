package io.baton.sidecar.listener;

import io.baton.handoff.OwnershipClaim;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Tells the predecessor that this process owns a connection it moved here, just before this process
 * first changes the connection's state; until then the predecessor keeps a copy and serves the
 * connection itself if this process dies ({@link OwnershipClaim}). It claims before it passes on
 * the first of: bytes read (or the unconsumed bytes that came with the connection), an EOF read, a
 * close, a deregistration (a move on to our own successor); and, late but so that the predecessor
 * lets go of the socket, when the channel went inactive without any of those. Then it leaves the
 * pipeline: a connection costs one handler until its first event.
 *
 * <p>Its place: right after {@code UnconsumedBytes} (which fires the unconsumed bytes from its own
 * position, so they pass here) and before every protocol handler, so that a close from any of them
 * ({@code ctx.close()}: drain deadline, idle timeout, error) passes here first. A {@code
 * Channel.close()} starts at the tail and passes here too.
 *
 * <p>Residual window: Netty's read loop has already read the bytes from the socket when {@link
 * #channelRead} runs. If this process dies between that read(2) and the confirmation's write(2)
 * (microseconds, on this event loop), the bytes are gone with it and the predecessor resumes a
 * connection whose request it never sees (the client waits for the answer until its own timeout).
 */
final class OwnershipConfirmation extends ChannelDuplexHandler {

  private final OwnershipClaim claim;

  OwnershipConfirmation(OwnershipClaim claim) {
    this.claim = claim;
  }

  private void claim(ChannelHandlerContext ctx) {
    claim.claim();
    if (!ctx.isRemoved()) {
      ctx.pipeline().remove(this);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    claim(ctx);
    ctx.fireChannelRead(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      claim(ctx); // an EOF the relay acts on (a FIN to the upstream)
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    claim(ctx);
    ctx.fireChannelInactive();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    claim(ctx); // without it the predecessor's copy would keep the socket open: no FIN
    ctx.close(promise);
  }

  @Override
  public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
    claim(ctx);
    ctx.deregister(promise);
  }
}
