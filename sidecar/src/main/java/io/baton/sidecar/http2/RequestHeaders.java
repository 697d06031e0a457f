package io.baton.sidecar.http2;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;

/**
 * A client stream's request headers as the upstream gets them: checked for what RFC 9113 §8.3.1
 * requires of a request, with the client's address appended to {@code x-forwarded-for}, and copied
 * for every attempt. One stream's event loop uses it.
 */
final class RequestHeaders {

  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");

  private final Http2Headers headers;
  private final boolean endStream;
  private final boolean grpc;

  private RequestHeaders(Http2Headers headers, boolean endStream) {
    this.headers = headers;
    this.endStream = endStream;
    this.grpc = Grpc.isGrpc(headers);
  }

  /**
   * What makes {@code headers} a malformed request (RFC 9113 §8.3.1: a {@code :method}; {@code
   * :scheme} and a non-empty {@code :path} unless it is CONNECT, which needs {@code :authority}),
   * or null if nothing. Netty's codec checks the names and order of pseudo-headers, not that the
   * required ones are there; without this check such a request reached the upstream.
   */
  static String malformed(Http2Headers headers) {
    // A repeated pseudo-header is the codec's to refuse (its header validation).
    if (headers.method() == null) {
      return ":method: none (expected: one)";
    }
    if (HttpMethod.CONNECT.asciiName().contentEquals(headers.method())
        && headers.get(Http2Headers.PseudoHeaderName.PROTOCOL.value()) == null) {
      return headers.authority() == null ? ":authority: none (expected: one, for CONNECT)" : null;
    }
    if (headers.scheme() == null) {
      return ":scheme: none (expected: one)";
    }
    if (headers.path() == null || headers.path().length() == 0) {
      return ":path: " + (headers.path() == null ? "none" : "empty") + " (expected: non-empty)";
    }
    return null;
  }

  /**
   * The request of a stream whose HEADERS were {@code headers} (checked by {@link #malformed}),
   * adding the client of {@code connection} to {@code x-forwarded-for}.
   */
  static RequestHeaders of(Http2Headers headers, boolean endStream, Channel connection) {
    if (connection != null && connection.remoteAddress() instanceof InetSocketAddress client) {
      String ip = client.getAddress().getHostAddress();
      CharSequence prior = headers.get(X_FORWARDED_FOR);
      headers.set(X_FORWARDED_FOR, prior == null ? ip : prior + ", " + ip);
    }
    return new RequestHeaders(headers, endStream);
  }

  /**
   * The headers for one attempt: each call gets its own copy (the codec may change them), all
   * attempts share the original.
   */
  Http2Headers forAttempt() {
    return new DefaultHttp2Headers(false).add(headers);
  }

  /** Whether the HEADERS frame ended the request (no body, no trailers). */
  boolean headersOnly() {
    return endStream;
  }

  boolean grpc() {
    return grpc;
  }
}
