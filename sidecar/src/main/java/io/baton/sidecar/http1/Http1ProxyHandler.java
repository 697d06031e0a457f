package io.baton.sidecar.http1;

import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.listener.ListenerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of an HTTP/1.1 listener: each request goes to an upstream connection
 * (pooled keep-alive, same event loop), bodies stream both ways with backpressure, pipelined
 * requests wait their turn as raw bytes in the {@link Http1RequestDecoder}. While the process
 * drains with migration on, the connection moves to the successor at its next request boundary,
 * with those bytes. Everything runs on the connection's event loop.
 *
 * <p>This handler only turns the pipeline's events into calls on its {@link ClientConnection}, one
 * per connection, which owns the client side of the protocol. The rest is one concern each: {@link
 * ConnectionState} and {@link Persistence} (the connection's state machine and keep-alive
 * decisions), {@link Exchange} (one request and its response across an upstream channel), {@link
 * RequestBody} (the request body and its backpressure), {@link RequestHead} and {@link
 * ResponseHead} (what each head becomes on the other side), {@link UpstreamFailures} (retry on the
 * next member, error answers, their logs and metrics), {@link
 * io.baton.sidecar.upstream.UpstreamChoice} (which member; shared with HTTP/2 and TCP), {@link
 * UpstreamOpener} (pooled connection or new one) and {@link H2cUpstreamStream} (an h2c stream
 * instead), {@link ResponseTimer}, {@link BoundaryMove} (the move to the successor), {@link
 * GracefulClose} and {@link ErrorResponses}. Its place in the pipeline: after {@link
 * Http1RequestDecoder}, {@link Http1ResponseEncoder} and Netty's {@code
 * HttpServerExpectContinueHandler}, last.
 */
final class Http1ProxyHandler extends ChannelDuplexHandler {

  private static final Logger log = LoggerFactory.getLogger(Http1ProxyHandler.class);

  private final ListenerContext context;
  private final Http1RequestDecoder decoder;
  private final Http1ResponseEncoder encoder;
  private ClientConnection connection;

  Http1ProxyHandler(
      ListenerContext context, Http1RequestDecoder decoder, Http1ResponseEncoder encoder) {
    this.context = context;
    this.decoder = decoder;
    this.encoder = encoder;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    connection = new ClientConnection(ctx, context, decoder, encoder);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == DrainEvent.DRAIN_STARTED) {
      connection.drainStarted();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    connection.read(msg);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    connection.clientWritable();
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    connection.inactive();
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug(
        "listener {}: client connection {} failed: {}",
        context.name(),
        ctx.channel().remoteAddress(),
        cause.toString());
    ctx.close();
  }
}
