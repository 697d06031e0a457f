package io.baton.sidecar.http1;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Decodes one request at a time: after the end of a request it holds whatever follows (pipelined
 * requests) as raw bytes until {@link #resume()}. So at a request boundary the bytes read from the
 * client and not served are exactly {@link #unconsumedBytes()}, and a connection can move to
 * another process with them.
 */
final class Http1RequestDecoder extends HttpRequestDecoder {

  /** Told when bytes of a next request wait while one is being served (to pause reading). */
  interface Listener {
    void pipelinedBytesWaiting();
  }

  /** Where the decoder is in the client's byte stream. */
  private enum Position {
    /** Nothing of the next request consumed yet. */
    AT_REQUEST_START,
    /** Inside a request: part of it is consumed (its line, headers or body). */
    IN_REQUEST,
    /** A request ended; what follows waits, raw, until {@link #resume()}. */
    HOLDING
  }

  private Position position = Position.AT_REQUEST_START;
  private Listener listener = () -> {};

  Http1RequestDecoder() {
    // Request line 8 KiB and headers 16 KiB at most (then 400); body chunks of up to 64 KiB.
    super(
        new HttpDecoderConfig()
            .setMaxInitialLineLength(8192)
            .setMaxHeaderSize(16 * 1024)
            .setMaxChunkSize(64 * 1024));
  }

  void listener(Listener value) {
    listener = value;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
      throws Exception {
    if (position == Position.HOLDING) {
      if (buffer.isReadable()) {
        listener.pipelinedBytesWaiting();
      }
      return;
    }
    int before = buffer.readerIndex();
    int emitted = out.size();
    super.decode(ctx, buffer, out);
    if (out.size() > emitted) {
      Object last = out.get(out.size() - 1);
      boolean ended =
          last instanceof LastHttpContent && ((HttpObject) last).decoderResult().isSuccess();
      position = ended ? Position.HOLDING : Position.IN_REQUEST;
    } else if (buffer.readerIndex() != before) {
      position = Position.IN_REQUEST;
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (position == Position.HOLDING) {
      // ByteToMessageDecoder would ask for another read here ("nothing decoded, need more"), even
      // with reading paused: while a request is answered, whether to read is the proxy's call.
      discardSomeReadBytes();
      ctx.fireChannelReadComplete();
      return;
    }
    super.channelReadComplete(ctx);
  }

  /** At a request boundary: the last request ended and nothing of the next one is decoded. */
  boolean atRequestBoundary() {
    return position != Position.IN_REQUEST;
  }

  boolean hasUnconsumedBytes() {
    ByteBuf held = internalBuffer();
    return held != null && held.isReadable();
  }

  /** A copy of the bytes read and not decoded (only meaningful {@link #atRequestBoundary()}). */
  byte[] unconsumedBytes() {
    ByteBuf held = internalBuffer();
    return held == null || !held.isReadable() ? new byte[0] : ByteBufUtil.getBytes(held);
  }

  /**
   * The response to the last request is out: decode the next one. Returns whether bytes of it are
   * already here (then the caller must feed the decoder again, see {@link ClientConnection}), as
   * nothing else would wake it before the client sends more.
   */
  boolean resume() {
    if (position == Position.HOLDING) {
      position = Position.AT_REQUEST_START;
    }
    return hasUnconsumedBytes();
  }
}
