package io.baton.sidecar.http2;

import io.baton.sidecar.listener.ListenerContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * Writes one client stream's response: the upstream's frames as they come (the response headers
 * stamped with the serving generation when the listener says so), or the answer Baton makes for an
 * upstream that failed. A write that fails on a live connection closes the stream. One stream's
 * event loop uses it.
 */
final class ResponseRelay {

  private static final AsciiString GENERATION =
      AsciiString.of(ListenerContext.GENERATION_HEADER.toLowerCase());

  private final ChannelHandlerContext ctx;
  private final ListenerContext context;

  ResponseRelay(ChannelHandlerContext ctx, ListenerContext context) {
    this.ctx = ctx;
    this.context = context;
  }

  void headers(Http2Headers headers, boolean endStream) {
    stampGeneration(headers);
    write(new DefaultHttp2HeadersFrame(headers, endStream));
  }

  /** Takes ownership of {@code data}. */
  void data(ByteBuf data, boolean endStream) {
    write(new DefaultHttp2DataFrame(data, endStream));
  }

  void trailers(Http2Headers trailers) {
    write(new DefaultHttp2HeadersFrame(trailers, true));
  }

  /** Whether the client's stream takes more now (else the upstream is not read). */
  boolean clientWritable() {
    return ctx.channel().isWritable();
  }

  /**
   * The whole answer for a request whose upstream failed before responding: a gRPC trailers-only
   * response with the matching status, or the HTTP status with a one-line text body.
   */
  void failureAnswer(UpstreamFailure failure, boolean grpc) {
    Http2Headers headers;
    if (grpc) {
      headers = Grpc.trailersOnly(failure.grpcStatus(), failure.detail());
    } else {
      headers =
          new DefaultHttp2Headers()
              .status(Integer.toString(failure.httpStatus()))
              .set("content-type", "text/plain; charset=utf-8");
    }
    stampGeneration(headers);
    if (grpc) {
      write(new DefaultHttp2HeadersFrame(headers, true));
    } else {
      byte[] body =
          (reasonPhrase(failure.httpStatus()) + ": " + failure.detail() + "\n")
              .getBytes(StandardCharsets.UTF_8);
      ctx.write(new DefaultHttp2HeadersFrame(headers, false));
      write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
    }
  }

  /** The end of a response whose upstream failed after its headers went out. */
  void failureMidResponse(UpstreamFailure failure, boolean grpc) {
    if (grpc) {
      // The headers are out: trailers carry the status, the stream ends cleanly.
      write(
          new DefaultHttp2HeadersFrame(
              Grpc.trailers(failure.grpcStatus(), failure.detail()), true));
    } else {
      // The only way left to tell an HTTP client the body is incomplete.
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(failure.resetCode()));
    }
  }

  private void stampGeneration(Http2Headers headers) {
    if (context.servingHeader()) {
      headers.set(GENERATION, Long.toString(context.generation()));
    }
  }

  private static String reasonPhrase(int status) {
    return HttpResponseStatus.valueOf(status).reasonPhrase();
  }

  private void write(Object frame) {
    ctx.writeAndFlush(frame)
        .addListener(
            f -> {
              if (!f.isSuccess() && ctx.channel().isActive()) {
                ctx.close();
              }
            });
  }
}
