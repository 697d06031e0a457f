package io.baton.sidecar.http1;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;

/** Hop-by-hop headers (RFC 9110 §7.6.1): they concern one connection and are never forwarded. */
final class HopByHop {

  private static final List<CharSequence> ALWAYS = List.of(
      HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION,
      HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE, HttpHeaderNames.TRANSFER_ENCODING,
      HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.PROXY_AUTHORIZATION);

  private HopByHop() {}

  /**
   * Removes every hop-by-hop header, including those the Connection header names. Returns whether
   * the message was chunked, so that the caller can frame it again on the next hop.
   */
  static boolean strip(HttpHeaders headers) {
    boolean chunked = headers.containsValue(HttpHeaderNames.TRANSFER_ENCODING, "chunked", true);
    for (String connection : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : connection.split(",")) {
        String name = token.trim().toLowerCase(Locale.ROOT);
        if (!name.isEmpty()) {
          headers.remove(name);
        }
      }
    }
    ALWAYS.forEach(headers::remove);
    return chunked;
  }
}
