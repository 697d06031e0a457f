package io.baton.testkit.upstream;

import io.baton.testkit.client.RawHttp;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A TCP echo server on 127.0.0.1 (Netty epoll) that honours half-close: when the peer shuts its
 * output, everything received is still echoed, then this side shuts its output (FIN) and closes.
 * Reading pauses while the peer does not read (backpressure). Each ended connection is recorded
 * with the SHA-256 of what it received (and so echoed), for tests that compare streams end to end.
 */
public final class TcpEchoUpstream implements AutoCloseable {

  /** One connection that ended: every byte it received, in order, was echoed back. */
  public record EndedConnection(long bytes, String sha256) {}

  private final LoopbackServer server;
  private final Queue<EndedConnection> ended = new ConcurrentLinkedQueue<>();

  private TcpEchoUpstream(int port) {
    server =
        new LoopbackServer("tcp-echo", port, 2, true, ch -> ch.pipeline().addLast(new Echo(ended)));
  }

  /** Starts on 127.0.0.1:{@code port}; 0 picks a free port. */
  public static TcpEchoUpstream start(int port) {
    return new TcpEchoUpstream(port);
  }

  public int port() {
    return server.port();
  }

  /** How many connections were accepted since start. */
  public long connectionsAccepted() {
    return server.connectionsAccepted();
  }

  /** The connections that have ended so far, in the order they ended. */
  public List<EndedConnection> endedConnections() {
    return List.copyOf(ended);
  }

  @Override
  public void close() {
    server.close();
  }

  private static final class Echo extends ChannelInboundHandlerAdapter {
    private final Queue<EndedConnection> ended;
    private final MessageDigest received = RawHttp.sha256();
    private long bytes;

    Echo(Queue<EndedConnection> ended) {
      this.ended = ended;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf data = (ByteBuf) msg;
      bytes += data.readableBytes();
      for (ByteBuffer view : data.nioBuffers()) {
        received.update(view); // a view: the buffer's own indexes stay as they are
      }
      ctx.write(msg);
      if (!ctx.channel().isWritable()) {
        // Pause before flushing: the flush may drain the buffer and fire channelWritabilityChanged.
        ctx.channel().config().setAutoRead(false);
        ctx.flush();
        if (ctx.channel().isWritable()) {
          ctx.channel().config().setAutoRead(true);
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) {
        ctx.channel().config().setAutoRead(true);
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        // Everything read so far has been written (channelRead writes synchronously): flush it,
        // then send our FIN once it is out, then close.
        DuplexChannel ch = (DuplexChannel) ctx.channel();
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER)
            .addListener(
                f -> {
                  if (f.isSuccess()) {
                    ch.shutdownOutput().addListener(g -> ch.close());
                  } else {
                    ch.close();
                  }
                });
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      ended.add(new EndedConnection(bytes, HexFormat.of().formatHex(received.digest())));
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
