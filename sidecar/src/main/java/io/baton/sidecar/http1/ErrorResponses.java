package io.baton.sidecar.http1;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The responses Baton itself gives an HTTP/1.1 client: plain text saying what went wrong. */
final class ErrorResponses {

  private ErrorResponses() {}

  /**
   * {@code status} with {@code body}; {@code Connection: close} if {@code close}; the generation
   * header when the listener adds it to proxied responses too.
   */
  static FullHttpResponse of(
      HttpResponseStatus status, String body, boolean close, ListenerContext context) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (context.servingHeader()) {
      response
          .headers()
          .set(ListenerContext.GENERATION_HEADER, Long.toString(context.generation()));
    }
    return response;
  }
}
