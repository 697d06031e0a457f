package io.baton.sidecar.h2c;

import io.netty.handler.codec.http2.Http2CodecUtil;

/**
 * The HTTP/2 limits Baton applies on both hops: the server side of client connections ({@code
 * http2.Http2Frontend}) and its h2c connections to upstream members. Here, on the upstream side,
 * because the HTTP/2 frontend depends on this package and not the other way.
 */
public final class Http2Limits {

  /**
   * Headers larger than this (HPACK-decoded, RFC 9113 §6.5.2) end the stream with 431 or the
   * connection.
   */
  public static final int MAX_HEADER_LIST_SIZE = 16 * 1024;

  /** Streams one client may have open at once; more are refused by the codec (REFUSED_STREAM). */
  public static final int MAX_CONCURRENT_STREAMS = 256;

  /**
   * The connection-level flow-control window Baton grants, on both hops: every stream's window (64
   * KiB, the default) times the streams a connection may carry. A stream whose other side is slow
   * stops being read and holds its window's worth unconsumed; with the default connection window of
   * 64 KiB one such stream would stall every other stream of the connection (on an upstream
   * connection: the streams of other clients). This size makes that impossible, and costs nothing
   * more: each stream still buffers at most its own window.
   */
  public static final int CONNECTION_WINDOW =
      MAX_CONCURRENT_STREAMS * Http2CodecUtil.DEFAULT_WINDOW_SIZE;

  private Http2Limits() {}
}
