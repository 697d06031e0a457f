package io.baton.sidecar.http2;

import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * Checks a client's HEADERS frame before Netty's decoder acts on it, for the two cases the decoder
 * answers with the wrong code (h2spec, issue 16): HEADERS on an id the client skipped (connection
 * error PROTOCOL_ERROR, RFC 9113 §5.1.1; the decoder says STREAM_CLOSED, see {@link
 * ClientStreamIds}) and HEADERS on a stream the client already ended (stream error STREAM_CLOSED,
 * §5.1 "half-closed (remote)"; the decoder says PROTOCOL_ERROR). One per connection, on its event
 * loop; {@link Http2FrameMeter} calls it from the frame-logger hook.
 */
final class InboundHeadersCheck {

  private final ClientStreamIds clientStreamIds = new ClientStreamIds();

  /** Throws the error a HEADERS frame from the client on {@code streamId} is, if it is one. */
  void check(Http2Connection connection, int streamId) throws Http2Exception {
    clientStreamIds.headers(streamId);
    Http2Stream stream = connection.stream(streamId);
    if (stream != null && stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE) {
      throw Http2Exception.streamError(
          streamId,
          Http2Error.STREAM_CLOSED,
          "HEADERS on stream %d (expected: none, the client ended the stream)",
          streamId);
    }
  }
}
