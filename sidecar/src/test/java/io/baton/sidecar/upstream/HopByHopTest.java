package io.baton.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class HopByHopTest {

  @Test
  void endToEndHeadersAreLeftAsTheyAre() {
    HttpHeaders headers =
        new DefaultHttpHeaders().add("Host", "a").add("Content-Length", "2").add("X-Te", "1");

    assertThat(HopByHop.strip(headers)).isFalse();

    assertThat(headers.names()).containsExactlyInAnyOrder("Host", "Content-Length", "X-Te");
  }

  @Test
  void everyHopByHopHeaderAndEveryHeaderConnectionNamesIsRemoved() {
    HttpHeaders headers =
        new DefaultHttpHeaders()
            .add("Host", "a")
            .add("connection", "keep-alive, X-Private ,  x-other")
            .add("Connection", "Upgrade")
            .add("Keep-Alive", "timeout=5")
            .add("Proxy-Connection", "keep-alive")
            .add("TE", "trailers")
            .add("Trailer", "X-Sum")
            .add("Upgrade", "websocket")
            .add("Proxy-Authenticate", "Basic")
            .add("Proxy-Authorization", "Basic eA==")
            .add("X-Private", "1")
            .add("X-Other", "2")
            .add("X-Kept", "3");

    assertThat(HopByHop.strip(headers)).isFalse();

    assertThat(headers.names()).containsExactlyInAnyOrder("Host", "X-Kept");
  }

  @Test
  void chunkedTransferEncodingIsRemovedAndReported() {
    HttpHeaders headers =
        new DefaultHttpHeaders().add("Host", "a").add("transfer-encoding", "gzip, Chunked");

    assertThat(HopByHop.strip(headers)).isTrue();

    assertThat(headers.names()).containsExactly("Host");
  }
}
