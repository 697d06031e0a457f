package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class ResponseHeadTest {

  private static HttpResponse upstream(HttpResponseStatus status) {
    return new DefaultHttpResponse(HttpVersion.HTTP_1_0, status);
  }

  @Test
  void aKeepAliveResponseWithLengthKeepsItsFramingAndLosesHopByHopHeaders() {
    HttpResponse response = upstream(HttpResponseStatus.OK);
    response.headers().set("Content-Length", "3").set("Keep-Alive", "timeout=5").set("X-A", "1");

    assertThat(ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_1, false, false))
        .isFalse();

    assertThat(response.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(response.headers().names()).containsExactly("Content-Length", "X-A");
  }

  @Test
  void aBodyOfUnknownLengthIsChunkedForAnHttp11Client() {
    HttpResponse response = upstream(HttpResponseStatus.OK);

    assertThat(ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_1, false, false))
        .isFalse();

    assertThat(response.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
    assertThat(response.headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
  }

  @Test
  void anHttp10ClientReadsABodyOfUnknownLengthUntilTheClose() {
    HttpResponse response = upstream(HttpResponseStatus.OK);

    assertThat(ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_0, false, false))
        .isTrue();

    assertThat(response.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
    assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
  }

  @Test
  void aChunkedUpstreamBodyReachesAnHttp10ClientUnchunkedUntilTheClose() {
    HttpResponse response = upstream(HttpResponseStatus.OK);
    response.headers().set("Transfer-Encoding", "chunked");

    assertThat(ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_0, false, false))
        .isTrue();

    assertThat(response.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
    assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
  }

  @Test
  void anHttp10ClientKeptAliveIsToldSo() {
    HttpResponse response = upstream(HttpResponseStatus.NO_CONTENT);

    assertThat(ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_0, false, false))
        .isFalse();

    assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("keep-alive");
  }

  @Test
  void responsesWithoutABodyAreNeverChunked() {
    for (HttpResponseStatus status :
        new HttpResponseStatus[] {HttpResponseStatus.NO_CONTENT, HttpResponseStatus.NOT_MODIFIED}) {
      HttpResponse response = upstream(status);
      ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_1, false, false);
      assertThat(response.headers().contains(HttpHeaderNames.TRANSFER_ENCODING))
          .as("%s", status)
          .isFalse();
    }
    HttpResponse toHead = upstream(HttpResponseStatus.OK);
    ResponseHead.prepareForClient(toHead, HttpVersion.HTTP_1_1, true, false);
    assertThat(toHead.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
  }

  @Test
  void aChunkedUpstreamBodyStaysChunkedAndAClosingConnectionSaysClose() {
    HttpResponse response = upstream(HttpResponseStatus.OK);
    response.headers().set("Transfer-Encoding", "chunked").set("Connection", "keep-alive");

    assertThat(ResponseHead.prepareForClient(response, HttpVersion.HTTP_1_1, false, true)).isTrue();

    assertThat(response.headers().get(HttpHeaderNames.TRANSFER_ENCODING)).isEqualTo("chunked");
    assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
  }
}
