package io.baton.sidecar.http2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import org.junit.jupiter.api.Test;

class ClientStreamIdsTest {

  private final ClientStreamIds ids = new ClientStreamIds();

  @Test
  void idsInOrderAndHeadersOnAnOpenedIdPass() throws Exception {
    ids.headers(1);
    ids.headers(3);
    ids.headers(5);
    // Trailers on 3, or HEADERS on a closed 1: the decoder's to answer (STREAM_CLOSED or fine).
    assertThatCode(() -> ids.headers(3)).doesNotThrowAnyException();
    assertThatCode(() -> ids.headers(1)).doesNotThrowAnyException();
  }

  @Test
  void anIdTheClientSkippedIsAConnectionProtocolError() throws Exception {
    ids.headers(5);
    ids.headers(11);
    for (int skipped : new int[] {1, 3, 7, 9}) {
      assertThatThrownBy(() -> ids.headers(skipped))
          .as("stream %d, skipped", skipped)
          .isInstanceOfSatisfying(
              Http2Exception.class,
              e -> {
                assertThat(e.error()).isEqualTo(Http2Error.PROTOCOL_ERROR);
                assertThat(Http2Exception.isStreamError(e)).isFalse();
              });
    }
    assertThatCode(() -> ids.headers(5)).doesNotThrowAnyException();
  }

  @Test
  void onlyTheLatestGapsAreKept() throws Exception {
    int id = 1;
    ids.headers(id);
    for (int i = 0; i <= ClientStreamIds.MAX_GAPS; i++) {
      id += 4; // skips one id each time
      ids.headers(id);
    }
    // The first gap (3) is forgotten: the decoder answers it STREAM_CLOSED, still a refusal.
    assertThatCode(() -> ids.headers(3)).doesNotThrowAnyException();
    int lastSkipped = id - 2;
    assertThatThrownBy(() -> ids.headers(lastSkipped)).isInstanceOf(Http2Exception.class);
  }

  @Test
  void evenIdsAreLeftToTheDecoder() {
    assertThatCode(() -> ids.headers(2)).doesNotThrowAnyException();
  }
}
