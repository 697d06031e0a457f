package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RequestHeadTest {

  private static HttpRequest request(HttpVersion version) {
    return new DefaultHttpRequest(version, HttpMethod.GET, "/");
  }

  @Test
  void theUpstreamGetsHttp11WithoutHopByHopHeadersAndTheClientInXForwardedFor() {
    RequestHead head = new RequestHead(() -> new InetSocketAddress("192.0.2.7", 4000));
    HttpRequest request = request(HttpVersion.HTTP_1_0);
    request.headers().set("Host", "a").set("Connection", "keep-alive").set("Keep-Alive", "5");

    head.prepareForUpstream(request);

    assertThat(request.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(request.headers().names()).containsExactly("Host", "x-forwarded-for");
    assertThat(request.headers().get("X-Forwarded-For")).isEqualTo("192.0.2.7");
  }

  @Test
  void aChunkedRequestStaysChunked() {
    RequestHead head = new RequestHead(() -> new InetSocketAddress("192.0.2.7", 4000));
    HttpRequest request = request(HttpVersion.HTTP_1_1);
    request.headers().set("Transfer-Encoding", "gzip, chunked");

    head.prepareForUpstream(request);

    assertThat(request.headers().get("Transfer-Encoding")).isEqualTo("chunked");
  }

  @Test
  void theClientIsAppendedToAnXForwardedForChainAndLookedUpOncePerConnection() {
    AtomicInteger lookups = new AtomicInteger();
    RequestHead head =
        new RequestHead(
            () -> {
              lookups.incrementAndGet();
              return new InetSocketAddress("2001:db8::1", 4000);
            });
    HttpRequest first = request(HttpVersion.HTTP_1_1);
    first.headers().set("X-Forwarded-For", "198.51.100.1");
    HttpRequest second = request(HttpVersion.HTTP_1_1);

    head.prepareForUpstream(first);
    head.prepareForUpstream(second);

    assertThat(first.headers().get("X-Forwarded-For"))
        .isEqualTo("198.51.100.1, 2001:db8:0:0:0:0:0:1");
    assertThat(second.headers().get("X-Forwarded-For")).isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(lookups).hasValue(1);
  }

  @Test
  void aClientWithoutAnInternetAddressAddsNoXForwardedFor() {
    SocketAddress unix = new SocketAddress() {};
    RequestHead head = new RequestHead(() -> unix);
    HttpRequest request = request(HttpVersion.HTTP_1_1);

    head.prepareForUpstream(request);

    assertThat(request.headers().contains("X-Forwarded-For")).isFalse();
  }
}
