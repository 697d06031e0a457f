package io.baton.sidecar.http2;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * One client stream's exchange with one upstream member, over HTTP/1.1 or h2c. Everything runs on
 * the client connection's event loop. Frames given before the upstream connection exists wait in
 * the call ({@link #isWritable()} is false meanwhile).
 */
interface UpstreamCall {

  /**
   * A piece of the request body; {@code endStream} ends the request. Takes ownership of {@code
   * data}.
   */
  void data(ByteBuf data, boolean endStream);

  /** The request's trailers, which end it. */
  void trailers(Http2Headers trailers);

  /**
   * Whether the upstream takes more request body now; the call tells {@link
   * Listener#writabilityChanged()}.
   */
  boolean isWritable();

  /** Whether to read the response from the upstream (false while the client cannot take more). */
  void setReading(boolean reading);

  /**
   * The client went away or the proxy gave up: release everything, leave the upstream usable if it
   * can be.
   */
  void cancel();

  /** What the call tells the stream it serves. */
  interface Listener {
    void responseHeaders(Http2Headers headers, boolean endStream);

    /** Takes ownership of {@code data}. */
    void responseData(ByteBuf data, boolean endStream);

    void responseTrailers(Http2Headers trailers);

    void writabilityChanged();

    /**
     * The upstream never processed the request (connect failed, stream refused, above its GOAWAY's
     * last stream id): safe to send again elsewhere.
     */
    void unprocessed(UpstreamFailure failure);

    /** The exchange failed after the upstream may have processed it. */
    void failed(UpstreamFailure failure);
  }
}
