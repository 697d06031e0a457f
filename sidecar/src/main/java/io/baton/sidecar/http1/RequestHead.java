package io.baton.sidecar.http1;

import io.baton.sidecar.upstream.HopByHop;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.function.Supplier;

/**
 * Turns the head of a client's request into the head Baton sends upstream, for every request of one
 * client connection: HTTP/1.1, without the hop-by-hop headers, the client's address added to {@code
 * X-Forwarded-For}.
 */
final class RequestHead {

  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");

  private final Supplier<SocketAddress> client;

  /**
   * The client's address as X-Forwarded-For spells it; the same for every request of the
   * connection.
   */
  private String clientIp;

  /**
   * @param client the connection's remote address, asked until it is an internet address
   */
  RequestHead(Supplier<SocketAddress> client) {
    this.client = client;
  }

  /** Rewrites {@code request}'s head in place for the upstream. */
  void prepareForUpstream(HttpRequest request) {
    boolean chunked = HopByHop.strip(request.headers());
    if (chunked) {
      request.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    if (clientIp == null && client.get() instanceof InetSocketAddress address) {
      clientIp = address.getAddress().getHostAddress();
    }
    if (clientIp != null) {
      String prior = request.headers().get(X_FORWARDED_FOR);
      request.headers().set(X_FORWARDED_FOR, prior == null ? clientIp : prior + ", " + clientIp);
    }
  }
}
