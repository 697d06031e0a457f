package io.baton.sidecar.upstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Hop-by-hop headers (RFC 9110 §7.6.1): they concern one connection and are never forwarded. */
public final class HopByHop {

  private static final List<AsciiString> ALWAYS =
      List.of(
          HttpHeaderNames.CONNECTION,
          HttpHeaderNames.KEEP_ALIVE,
          HttpHeaderNames.PROXY_CONNECTION,
          HttpHeaderNames.TE,
          HttpHeaderNames.TRAILER,
          HttpHeaderNames.UPGRADE,
          HttpHeaderNames.TRANSFER_ENCODING,
          HttpHeaderNames.PROXY_AUTHENTICATE,
          HttpHeaderNames.PROXY_AUTHORIZATION);

  private HopByHop() {}

  /**
   * Removes every hop-by-hop header, including those the Connection header names. Returns whether
   * the message was chunked, so that the caller can frame it again on the next hop.
   */
  public static boolean strip(HttpHeaders headers) {
    // Most messages carry none of them: one pass over the names, without allocating, finds out.
    // Headers named by Connection matter only when Connection itself is present.
    if (!containsAny(headers)) {
      return false;
    }
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

  private static boolean containsAny(HttpHeaders headers) {
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        it.hasNext(); ) {
      CharSequence name = it.next().getKey();
      for (AsciiString hopByHop : ALWAYS) {
        if (hopByHop.contentEqualsIgnoreCase(name)) {
          return true;
        }
      }
    }
    return false;
  }
}
