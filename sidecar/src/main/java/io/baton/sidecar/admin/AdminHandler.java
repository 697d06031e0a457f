package io.baton.sidecar.admin;

import io.baton.sidecar.metrics.BatonMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers {@code /metrics}, {@code /ready}, {@code /healthz} and {@code /clusters}. */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final BatonMetrics metrics;
  private final BooleanSupplier ready;
  private final ClustersReport clusters;

  AdminHandler(BatonMetrics metrics, BooleanSupplier ready, ClustersReport clusters) {
    this.metrics = metrics;
    this.ready = ready;
    this.clusters = clusters;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (request.decoderResult().isFailure()) {
      log.warn(
          "admin: malformed request from {}: {}",
          ctx.channel().remoteAddress(),
          request.decoderResult().cause().toString());
      respond(
          ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "malformed request\n", true);
      return;
    }
    String path = request.uri();
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method())) {
      respond(
          ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "only GET\n", false);
      return;
    }
    switch (path) {
      case "/metrics" ->
          respond(ctx, request, HttpResponseStatus.OK, PROMETHEUS_TEXT, metrics.scrape(), false);
      case "/ready" -> {
        boolean isReady = ready.getAsBoolean();
        respond(
            ctx,
            request,
            isReady ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
            "text/plain",
            isReady ? "ready\n" : "not ready\n",
            false);
      }
      case "/healthz" -> respond(ctx, request, HttpResponseStatus.OK, "text/plain", "ok\n", false);
      case "/clusters" ->
          respond(ctx, request, HttpResponseStatus.OK, "application/json", clusters.json(), false);
      default ->
          respond(
              ctx,
              request,
              HttpResponseStatus.NOT_FOUND,
              "text/plain",
              "no such admin endpoint: "
                  + path
                  + " (expected /metrics, /ready, /healthz or /clusters)\n",
              false);
    }
  }

  private void respond(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      HttpResponseStatus status,
      String contentType,
      String body,
      boolean forceClose) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    boolean head = HttpMethod.HEAD.equals(request.method());
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            status,
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    // Not ready (draining, a successor accepts): close, so that a keep-alive scraper such as
    // Prometheus reconnects, to the successor when it took the admin socket over.
    boolean keepAlive = !forceClose && HttpUtil.isKeepAlive(request) && ready.getAsBoolean();
    if (!keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    var write = ctx.writeAndFlush(response);
    if (!keepAlive) {
      write.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.warn(
        "admin: connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
