package io.baton.testkit.upstream;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An h2c (prior knowledge) upstream for tests, the demo and the bench: plain HTTP/2 on {@link
 * #port()} and the gRPC service {@code baton.testing.v1.Echo} ({@link EchoService}) on {@link
 * #grpcPort()}, both on 127.0.0.1. Two ports because grpc-java owns the whole pipeline of its
 * connections.
 *
 * <p>Plain HTTP/2 endpoints (bodies are small and aggregated per stream):
 *
 * <ul>
 *   <li>{@code /load/<id>[?delay=<ms>]} — records {@code <id>} in {@link #idCounts()} when the
 *       request arrives, answers 200 {@code ok <id>} (after {@code ms} milliseconds if given: a
 *       stream kept in flight across a GOAWAY).
 *   <li>{@code /hold/<id>} — records {@code <id>} like {@code /load/}, answers only when the test
 *       calls {@link #releaseHeld()}: a stream in flight for exactly as long as a test needs,
 *       whatever the machine's speed.
 *   <li>{@code /echo} — answers 200 with the request body.
 *   <li>{@code /status/<code>} — answers with that status.
 * </ul>
 *
 * Anything else is 404. Count at the upstream that every id arrived exactly once: clients can hide
 * failures.
 */
public final class TestH2Upstream implements AutoCloseable {

  private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
  private final Queue<Runnable> held = new ConcurrentLinkedQueue<>();
  private final AtomicInteger toRefuse = new AtomicInteger();
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final LoopbackServer server;
  private final EchoService echo;
  private final Server grpc;

  private TestH2Upstream(int port, int grpcPort) {
    server =
        new LoopbackServer(
            "h2-upstream",
            port,
            0,
            false,
            ch -> {
              connections.add(ch);
              ch.pipeline()
                  .addLast(
                      Http2FrameCodecBuilder.forServer().build(),
                      new Http2MultiplexHandler(
                          new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel stream) {
                              stream.pipeline().addLast(new StreamHandler());
                            }
                          }));
            });
    echo = new EchoService();
    try {
      grpc =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", grpcPort))
              .addService(echo)
              .build()
              .start();
    } catch (IOException | RuntimeException e) {
      server.close();
      echo.close();
      throw e instanceof IOException io
          ? new UncheckedIOException("grpc port 127.0.0.1:" + grpcPort, io)
          : (RuntimeException) e;
    }
  }

  /** Starts both servers; 0 picks a free port. */
  public static TestH2Upstream start(int port, int grpcPort) {
    return new TestH2Upstream(port, grpcPort);
  }

  /** The plain HTTP/2 (h2c) port. */
  public int port() {
    return server.port();
  }

  /** The gRPC (h2c) port. */
  public int grpcPort() {
    return grpc.getPort();
  }

  /** A snapshot: how many times each {@code /load/<id>} arrived, sorted by id. */
  public Map<String, Integer> idCounts() {
    return new TreeMap<>(ids);
  }

  /** A snapshot: how many times each gRPC call id arrived (once per call), sorted by id. */
  public Map<String, Integer> callIdCounts() {
    return echo.callIdCounts();
  }

  /**
   * The next {@code n} plain-port streams are reset with REFUSED_STREAM as soon as their headers
   * arrive, before anything is recorded: streams provably never processed, for testing a client.
   */
  public void refuseNextStreams(int n) {
    toRefuse.addAndGet(n);
  }

  /** Server-streaming calls made with {@code until_released} end after their next message. */
  public void releaseStreams() {
    echo.releaseStreams();
  }

  /** {@code /hold/} requests received and not yet released. */
  public int heldRequests() {
    return held.size();
  }

  /** Answers every {@code /hold/} request received so far. */
  public void releaseHeld() {
    for (Runnable answer = held.poll(); answer != null; answer = held.poll()) {
      answer.run();
    }
  }

  /** gRPC calls started and not yet ended (by completion, error or cancel). */
  public int grpcCallsInFlight() {
    return echo.callsInFlight();
  }

  /** HTTP/2 connections accepted on the plain port since start. */
  public long connectionsAccepted() {
    return server.connectionsAccepted();
  }

  /** How many of them are open now: a connection counts until this side has closed it too. */
  public long connectionsOpen() {
    return server.connectionsOpen();
  }

  /**
   * Sends GOAWAY(NO_ERROR) with the last stream each connection created on every plain-port
   * connection: streams in flight finish, the client must open new ones elsewhere. For testing a
   * client's GOAWAY handling against a server that is not Baton.
   */
  public void goAwayAll() {
    for (Channel ch : connections) {
      ch.eventLoop()
          .execute(() -> ch.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)));
    }
  }

  @Override
  public void close() {
    grpc.shutdownNow();
    try {
      grpc.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    echo.close();
    server.close();
  }

  /** One per stream: aggregates the request, then answers. */
  private final class StreamHandler extends SimpleChannelInboundHandler<Http2StreamFrame> {
    private Http2Headers request;
    private CompositeByteBuf body;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
      if (frame instanceof Http2HeadersFrame headers) {
        if (request == null && toRefuse.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
          return;
        }
        if (request == null) {
          request = headers.headers();
          body = ctx.alloc().compositeBuffer();
        }
        if (headers.isEndStream()) {
          answer(ctx);
        }
      } else if (frame instanceof Http2DataFrame data) {
        if (body != null) {
          body.addComponent(true, data.content().retain());
        }
        if (data.isEndStream()) {
          answer(ctx);
        }
      }
    }

    private void answer(ChannelHandlerContext ctx) {
      String path = request.path() == null ? "" : request.path().toString();
      String query = "";
      int q = path.indexOf('?');
      if (q >= 0) {
        query = path.substring(q + 1);
        path = path.substring(0, q);
      }
      ByteBuf received = body;
      body = null;
      try {
        if (path.startsWith("/load/") && path.length() > 6) {
          String id = path.substring(6);
          ids.merge(id, 1, Integer::sum);
          long delay = delayOf(query);
          byte[] text = ("ok " + id + "\n").getBytes(StandardCharsets.US_ASCII);
          if (delay > 0) {
            ctx.executor().schedule(() -> respond(ctx, 200, text), delay, TimeUnit.MILLISECONDS);
          } else {
            respond(ctx, 200, text);
          }
        } else if (path.startsWith("/hold/") && path.length() > 6) {
          String id = path.substring(6);
          ids.merge(id, 1, Integer::sum);
          byte[] text = ("held " + id + "\n").getBytes(StandardCharsets.US_ASCII);
          held.add(() -> ctx.executor().execute(() -> respond(ctx, 200, text)));
        } else if (path.equals("/echo")) {
          respond(ctx, 200, ByteBufUtil.getBytes(received));
        } else if (path.startsWith("/status/")) {
          int code = parseStatus(path.substring(8));
          respond(ctx, code, ("status " + code + "\n").getBytes(StandardCharsets.US_ASCII));
        } else {
          respond(ctx, 404, "not found\n".getBytes(StandardCharsets.US_ASCII));
        }
      } finally {
        received.release();
      }
    }

    private void respond(ChannelHandlerContext ctx, int status, byte[] text) {
      if (!ctx.channel().isActive()) {
        return;
      }
      Http2Headers headers = new DefaultHttp2Headers().status(Integer.toString(status));
      headers.set("content-type", "text/plain");
      headers.setInt("content-length", text.length);
      ctx.write(new DefaultHttp2HeadersFrame(headers, false));
      ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(text), true));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (body != null) {
        body.release();
        body = null;
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private static long delayOf(String query) {
    for (String part : query.split("&")) {
      if (part.startsWith("delay=")) {
        try {
          return Math.max(0, Long.parseLong(part.substring(6)));
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  private static int parseStatus(String s) {
    try {
      int code = Integer.parseInt(s);
      return code >= 200 && code <= 999 ? code : 404;
    } catch (NumberFormatException e) {
      return 404;
    }
  }
}
