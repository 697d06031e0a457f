package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class Http1RequestDecoderTest {

  private static final String FIRST = "GET /first HTTP/1.1\r\nHost: t\r\n\r\n";
  private static final String SECOND =
      "POST /second HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void decodesOneRequestAndHoldsTheNextAsRawBytesUntilResumed() {
    Http1RequestDecoder decoder = new Http1RequestDecoder();
    AtomicInteger waiting = new AtomicInteger();
    decoder.listener(waiting::incrementAndGet);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);

    ch.writeInbound(Unpooled.wrappedBuffer(ascii(FIRST + SECOND)));

    HttpRequest first = ch.readInbound();
    assertThat(first.uri()).isEqualTo("/first");
    Object end = ch.readInbound();
    assertThat(end).isInstanceOf(LastHttpContent.class);
    assertThat((Object) ch.readInbound()).as("nothing of the second request is decoded").isNull();
    assertThat(decoder.atRequestBoundary()).isTrue();
    assertThat(decoder.unconsumedBytes())
        .as("exactly the second request's bytes")
        .isEqualTo(ascii(SECOND));

    ch.writeInbound(Unpooled.wrappedBuffer(ascii("GET /third HTTP/1.1\r\n\r\n")));
    assertThat(waiting.get()).as("the proxy is told that bytes wait").isPositive();
    assertThat((Object) ch.readInbound()).isNull();

    assertThat(decoder.resume()).as("bytes are waiting").isTrue();
    ch.writeInbound(Unpooled.EMPTY_BUFFER);
    HttpRequest second = ch.readInbound();
    assertThat(second.uri()).isEqualTo("/second");
    Object body = ch.readInbound();
    assertThat(body).isInstanceOf(LastHttpContent.class);
    ReferenceCountUtil.release(body);
    assertThat(decoder.unconsumedBytes()).isEqualTo(ascii("GET /third HTTP/1.1\r\n\r\n"));
    ReferenceCountUtil.release(end);
    ch.finishAndReleaseAll();
  }

  @Test
  void aRequestWhoseHeadersHaveNotAllArrivedIsNotABoundary() {
    Http1RequestDecoder decoder = new Http1RequestDecoder();
    EmbeddedChannel ch = new EmbeddedChannel(decoder);

    ch.writeInbound(Unpooled.wrappedBuffer(ascii("GET /slow HTTP/1.1\r\nHost: t\r\nX-Half: ")));

    assertThat((Object) ch.readInbound()).isNull();
    assertThat(decoder.atRequestBoundary())
        .as("the request line is consumed: moving now would lose it")
        .isFalse();

    ch.writeInbound(Unpooled.wrappedBuffer(ascii("yes\r\n\r\n")));
    HttpRequest slow = ch.readInbound();
    assertThat(slow.headers().get("X-Half")).isEqualTo("yes");
    ReferenceCountUtil.release(ch.readInbound());
    assertThat(decoder.atRequestBoundary()).isTrue();
    assertThat(decoder.unconsumedBytes()).isEmpty();
    ch.finishAndReleaseAll();
  }

  @Test
  void aFreshConnectionIsAtABoundary() {
    Http1RequestDecoder decoder = new Http1RequestDecoder();
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    assertThat(decoder.atRequestBoundary()).isTrue();
    assertThat(decoder.resume()).isFalse();
    ch.finishAndReleaseAll();
  }
}
