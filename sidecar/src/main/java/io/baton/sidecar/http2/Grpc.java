package io.baton.sidecar.http2;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/** What the proxy knows of gRPC: how to recognise a call and how to fail one the gRPC way. */
final class Grpc {

  private static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
  private static final String GRPC_CONTENT_TYPE = "application/grpc";

  private Grpc() {}

  /**
   * A gRPC call: {@code content-type: application/grpc} or {@code application/grpc+proto} and the
   * like.
   */
  static boolean isGrpc(Http2Headers requestHeaders) {
    CharSequence type = requestHeaders.get(CONTENT_TYPE);
    return type != null
        && AsciiString.regionMatches(
            type, true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length())
        && (type.length() == GRPC_CONTENT_TYPE.length()
            || type.charAt(GRPC_CONTENT_TYPE.length()) == '+'
            || type.charAt(GRPC_CONTENT_TYPE.length()) == ';');
  }

  /**
   * A trailers-only response (gRPC over HTTP/2: one HEADERS frame with END_STREAM carrying {@code
   * :status 200} and the status): what a gRPC client reads as a failed call with that status.
   */
  static Http2Headers trailersOnly(int status, String message) {
    return new DefaultHttp2Headers()
        .status("200")
        .set(CONTENT_TYPE, GRPC_CONTENT_TYPE)
        .set("grpc-status", Integer.toString(status))
        .set("grpc-message", percentEncode(message));
  }

  /** Trailers that end a gRPC response whose headers are already out. */
  static Http2Headers trailers(int status, String message) {
    return new DefaultHttp2Headers()
        .set("grpc-status", Integer.toString(status))
        .set("grpc-message", percentEncode(message));
  }

  /**
   * grpc-message is percent-encoded UTF-8 (gRPC over HTTP/2 spec): only printable ASCII but '%'
   * passes as is.
   */
  static String percentEncode(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c >= 0x20 && c < 0x7f && c != '%') {
        out.append((char) c);
      } else {
        out.append('%')
            .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }
}
