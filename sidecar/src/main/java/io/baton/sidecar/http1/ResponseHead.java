package io.baton.sidecar.http1;

import io.baton.sidecar.upstream.HopByHop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Turns the head of an upstream's response into the head the client gets: HTTP/1.1, without the
 * hop-by-hop headers, framed so that the client's version can read where the body ends, and saying
 * whether the connection stays open.
 */
final class ResponseHead {

  private ResponseHead() {}

  /**
   * Rewrites {@code response}'s head in place for the client and returns whether the connection
   * closes after it.
   *
   * @param clientVersion the version of the client's request as it came (before it was rewritten
   *     for the upstream)
   * @param head whether the request was a HEAD (the response has no body whatever it says)
   * @param closeAfter whether the connection closes after this response for other reasons
   */
  static boolean prepareForClient(
      HttpResponse response, HttpVersion clientVersion, boolean head, boolean closeAfter) {
    HopByHop.strip(response.headers());
    response.setProtocolVersion(HttpVersion.HTTP_1_1);
    int status = response.status().code();
    boolean bodyless = head || status == 204 || status == 304;
    if (!bodyless && !response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
        response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      } else {
        // HTTP/1.0 has no chunked coding (RFC 9112 7.1: never send it to a 1.0 client), even when
        // the upstream chunked it: such a client reads the body until the connection closes.
        closeAfter = true;
      }
    }
    if (closeAfter) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (!clientVersion.equals(HttpVersion.HTTP_1_1)) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    return closeAfter;
  }
}
