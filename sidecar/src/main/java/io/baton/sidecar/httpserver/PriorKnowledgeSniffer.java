package io.baton.sidecar.httpserver;

import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.http1.Http1ProxyInitializer;
import io.baton.sidecar.http2.Http2Frontend;
import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * Reads the first bytes of a cleartext connection until they either are the HTTP/2 client preface
 * ({@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}, RFC 9113 §3.4) or cannot be: then it installs the
 * HTTP/2 or the HTTP/1.1 pipeline, hands it every byte read so far, and leaves. An HTTP/1.1 request
 * differs from the preface by its first bytes (no method is "PRI"), so HTTP/1.1 clients wait for
 * nothing.
 *
 * <p>A drain that starts before the connection said anything installs HTTP/1.1 at once, which
 * behaves as before sniffing existed: with migration on, the idle connection moves to the successor
 * (whose sniffer then reads its first bytes).
 */
final class PriorKnowledgeSniffer extends ChannelInboundHandlerAdapter {

  private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

  /** "PRI * HTTP/2.0\r\n": no HTTP/1.1 request starts so; what follows it decides nothing more. */
  private static final int PREFACE_LINE = 16;

  private final ListenerContext context;
  private ByteBuf seen;

  PriorKnowledgeSniffer(ListenerContext context) {
    this.context = context;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (seen == null) {
      seen = in;
    } else {
      seen = ctx.alloc().compositeBuffer().addComponents(true, seen, in);
    }
    int compared = Math.min(seen.readableBytes(), PREFACE.readableBytes());
    boolean prefix = seen.slice(seen.readerIndex(), compared).equals(PREFACE.slice(0, compared));
    if (!prefix) {
      // A client that announced HTTP/2 and then sent a corrupt preface gets HTTP/2's answer to it
      // (GOAWAY(PROTOCOL_ERROR) from the codec's preface check), not an HTTP/1.1 "PRI *" request.
      install(
          ctx,
          compared > PREFACE_LINE
              && seen.slice(seen.readerIndex(), PREFACE_LINE)
                  .equals(PREFACE.slice(0, PREFACE_LINE)));
    } else if (compared == PREFACE.readableBytes()) {
      install(ctx, true);
    }
    // else: a part of the preface; wait for the rest
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == DrainEvent.DRAIN_STARTED && seen == null) {
      install(ctx, false);
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (seen != null) {
      ReferenceCountUtil.release(
          seen); // the connection closed while we waited for the rest of the preface
      seen = null;
    }
  }

  private void install(ChannelHandlerContext ctx, boolean http2) {
    ByteBuf first = seen;
    seen = null;
    if (http2) {
      Http2Frontend.install(ctx.pipeline(), context);
    } else {
      ctx.pipeline().addLast(new Http1ProxyInitializer(context));
    }
    ctx.pipeline().remove(this);
    if (first != null) {
      ctx.fireChannelRead(first);
      ctx.fireChannelReadComplete();
    }
  }
}
