package io.baton.testkit.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslContext;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/1.1 upstream for tests, the demo and the bench: Netty epoll on 127.0.0.1, keep-alive, no
 * aggregation (bodies are streamed both ways).
 *
 * <p>Endpoints:
 *
 * <ul>
 *   <li>{@code /load/<id>[?delay=<ms>]} — records {@code <id>} in {@link #idCounts()} (thread-safe)
 *       and answers 200 with a small body (after {@code ms} milliseconds if given). Count here, at
 *       the upstream, that every request id arrived exactly once: test clients can hide failures.
 *   <li>{@code /echo} — streams the request body back as it arrives (chunked), with backpressure.
 *   <li>{@code /bytes/<n>} — streams {@code n} bytes of {@link #patternByte(long) deterministic
 *       pseudo-random content} (chunked, produced only as fast as the peer reads; never all in
 *       memory).
 *   <li>{@code /delay/<ms>} — answers 200 after {@code ms} milliseconds, scheduled on the event
 *       loop.
 *   <li>{@code /hold/<id>} — records {@code <id>} like {@code /load/}, then answers only when the
 *       test calls {@link #releaseHeld()}: a request kept in flight for exactly as long as a test
 *       needs, whatever the machine's speed.
 *   <li>{@code /status/<code>} — answers with that status.
 *   <li>{@code /ids} — {@link #idCounts()} as text, one {@code <id> <count>} line each, for a test
 *       whose upstream runs in another process (a container): {@link #parseIdCounts} reads it.
 * </ul>
 *
 * Anything else is 404. A request with {@code Connection: close} (or HTTP/1.0 without keep-alive)
 * gets {@code Connection: close} and the connection is closed after the response. Requests on one
 * connection are expected one at a time (no pipelining).
 */
public final class TestUpstream implements AutoCloseable {

  private static final int CHUNK = 16 * 1024;

  private final LoopbackServer server;
  private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
  private final AtomicLong delayedInFlight = new AtomicLong();
  private final Queue<Runnable> held = new ConcurrentLinkedQueue<>();

  private TestUpstream(int port, SslContext tls) {
    server =
        new LoopbackServer(
            "upstream",
            port,
            0,
            false,
            ch -> {
              if (tls != null) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc()));
              }
              ch.pipeline().addLast(new HttpServerCodec(), new Handler());
            });
  }

  /** Starts an upstream on 127.0.0.1:{@code port}; 0 picks a free port (see {@link #port()}). */
  public static TestUpstream start(int port) {
    return new TestUpstream(port, null);
  }

  /**
   * The same upstream speaking HTTPS: every connection is TLS with {@code tls} (a server context).
   */
  public static TestUpstream startTls(int port, SslContext tls) {
    return new TestUpstream(port, tls);
  }

  /** The bound port. */
  public int port() {
    return server.port();
  }

  /** A snapshot: how many times each {@code /load/<id>} arrived, sorted by id. */
  public Map<String, Integer> idCounts() {
    return new TreeMap<>(ids);
  }

  /** {@code /delay/} requests received and not yet answered. */
  public long delayedRequestsInFlight() {
    return delayedInFlight.get();
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

  /** How many connections were accepted since start. */
  public long connectionsAccepted() {
    return server.connectionsAccepted();
  }

  /** How many of them are open now: a connection counts until this side has closed it too. */
  public long connectionsOpen() {
    return server.connectionsOpen();
  }

  /** Stops listening, closes every connection and the event loops. */
  @Override
  public void close() {
    server.close();
  }

  /**
   * Byte {@code i} of the {@code /bytes/<n>} content: a fixed function of the position (SplitMix64
   * of {@code i / 8}), so a client can check any stream without storing it.
   */
  public static byte patternByte(long i) {
    return (byte) (mix(i >>> 3) >>> ((i & 7) * 8));
  }

  private static long mix(long x) {
    long z = x * 0x9E3779B97F4A7C15L + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Fills {@code buf} with the pattern bytes starting at position {@code offset}. */
  public static void fillPattern(long offset, byte[] buf, int len) {
    for (int k = 0; k < len; k++) {
      buf[k] = patternByte(offset + k);
    }
  }

  /** Reads the body of {@code /ids} back into {@link #idCounts()}'s shape. */
  public static Map<String, Integer> parseIdCounts(String body) {
    Map<String, Integer> counts = new TreeMap<>();
    for (String line : body.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      int space = line.indexOf(' ');
      if (space < 0) {
        throw new IllegalArgumentException("/ids line: \"" + line + "\" (expected: <id> <count>)");
      }
      counts.put(line.substring(0, space), Integer.parseInt(line.substring(space + 1)));
    }
    return counts;
  }

  private enum Kind {
    LOAD,
    HOLD,
    ECHO,
    BYTES,
    DELAY,
    STATUS,
    IDS,
    NOT_FOUND
  }

  /** One per connection. */
  private final class Handler extends SimpleChannelInboundHandler<HttpObject> {
    private Kind kind;
    private boolean keepAlive;
    private long arg;
    private String id;
    private long loadDelay;
    // /bytes state
    private long bytesTotal;
    private long bytesSent;
    private boolean streaming;
    private boolean pumping;
    private boolean repump;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
      if (msg instanceof HttpRequest req) {
        startRequest(ctx, req);
      }
      if (msg instanceof HttpContent content) {
        if (kind == Kind.ECHO) {
          ByteBuf data = content.content();
          if (data.isReadable()) {
            ctx.write(new DefaultHttpContent(data.retain()));
          }
          if (content instanceof LastHttpContent) {
            kind = null;
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(done());
          } else if (!ctx.channel().isWritable()) {
            // Pause reading before flushing: the flush may drain the buffer and fire
            // channelWritabilityChanged (which resumes reading) right away.
            ctx.channel().config().setAutoRead(false);
            ctx.flush();
            if (ctx.channel().isWritable()) {
              ctx.channel().config().setAutoRead(true);
            }
          }
        } else if (content instanceof LastHttpContent && kind != null) {
          endRequest(ctx);
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    private void startRequest(ChannelHandlerContext ctx, HttpRequest req) {
      keepAlive = HttpUtil.isKeepAlive(req);
      String path = req.uri();
      int q = path.indexOf('?');
      loadDelay = 0;
      if (q >= 0) {
        String query = path.substring(q + 1);
        if (query.startsWith("delay=")) {
          try {
            loadDelay = Math.max(0, Long.parseLong(query.substring(6)));
          } catch (NumberFormatException e) {
            loadDelay = 0;
          }
        }
        path = path.substring(0, q);
      }
      kind = Kind.NOT_FOUND;
      try {
        if (path.startsWith("/load/") && path.length() > 6) {
          kind = Kind.LOAD;
          id = path.substring(6);
        } else if (path.startsWith("/hold/") && path.length() > 6) {
          kind = Kind.HOLD;
          id = path.substring(6);
        } else if (path.equals("/ids")) {
          kind = Kind.IDS;
        } else if (path.equals("/echo")) {
          kind = Kind.ECHO;
          HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
          resp.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
          resp.headers()
              .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
          connectionHeader(resp);
          ctx.write(resp);
        } else if (path.startsWith("/bytes/")) {
          arg = Long.parseLong(path.substring(7));
          kind = arg >= 0 ? Kind.BYTES : Kind.NOT_FOUND;
        } else if (path.startsWith("/delay/")) {
          arg = Long.parseLong(path.substring(7));
          kind = arg >= 0 ? Kind.DELAY : Kind.NOT_FOUND;
        } else if (path.startsWith("/status/")) {
          arg = Integer.parseInt(path.substring(8));
          kind = arg >= 100 && arg <= 999 ? Kind.STATUS : Kind.NOT_FOUND;
        }
      } catch (NumberFormatException e) {
        kind = Kind.NOT_FOUND;
      }
    }

    private void endRequest(ChannelHandlerContext ctx) {
      Kind k = kind;
      kind = null;
      switch (k) {
        case LOAD -> {
          ids.merge(id, 1, Integer::sum);
          // The id in the body lets a client check that pipelined answers come back in order.
          byte[] text = ("ok " + id + "\n").getBytes(StandardCharsets.US_ASCII);
          if (loadDelay > 0) {
            ctx.executor()
                .schedule(
                    () -> respond(ctx, HttpResponseStatus.OK, text),
                    loadDelay,
                    TimeUnit.MILLISECONDS);
          } else {
            respond(ctx, HttpResponseStatus.OK, text);
          }
        }
        case HOLD -> {
          ids.merge(id, 1, Integer::sum);
          String heldId = id;
          held.add(
              () ->
                  ctx.executor()
                      .execute(
                          () ->
                              respond(
                                  ctx,
                                  HttpResponseStatus.OK,
                                  ("held " + heldId + "\n").getBytes(StandardCharsets.US_ASCII))));
        }
        case DELAY -> {
          delayedInFlight.incrementAndGet();
          ctx.executor()
              .schedule(
                  () -> {
                    delayedInFlight.decrementAndGet();
                    respond(
                        ctx,
                        HttpResponseStatus.OK,
                        ("delayed " + arg + " ms\n").getBytes(StandardCharsets.US_ASCII));
                  },
                  arg,
                  TimeUnit.MILLISECONDS);
        }
        case IDS -> {
          StringBuilder text = new StringBuilder();
          idCounts()
              .forEach((key, count) -> text.append(key).append(' ').append(count).append('\n'));
          respond(ctx, HttpResponseStatus.OK, text.toString().getBytes(StandardCharsets.US_ASCII));
        }
        case STATUS ->
            respond(
                ctx,
                HttpResponseStatus.valueOf((int) arg),
                ("status " + arg + "\n").getBytes(StandardCharsets.US_ASCII));
        case BYTES -> {
          HttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
          resp.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
          resp.headers()
              .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
          connectionHeader(resp);
          ctx.write(resp);
          bytesTotal = arg;
          bytesSent = 0;
          streaming = true;
          ctx.channel().config().setAutoRead(false);
          pump(ctx);
        }
        default ->
            respond(
                ctx,
                HttpResponseStatus.NOT_FOUND,
                "not found\n".getBytes(StandardCharsets.US_ASCII));
      }
    }

    /** Writes pattern chunks while the channel is writable; continues on writability change. */
    private void pump(ChannelHandlerContext ctx) {
      if (pumping) {
        repump = true; // called from inside our own flush: let the outer loop continue
        return;
      }
      pumping = true;
      try {
        do {
          repump = false;
          while (streaming && ctx.channel().isActive() && ctx.channel().isWritable()) {
            int len = (int) Math.min(CHUNK, bytesTotal - bytesSent);
            if (len == 0) {
              streaming = false;
              ctx.channel().config().setAutoRead(true);
              ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(done());
              return;
            }
            byte[] buf = new byte[len];
            fillPattern(bytesSent, buf, len);
            bytesSent += len;
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(buf)));
          }
          ctx.flush();
        } while (repump && streaming);
      } finally {
        pumping = false;
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) {
        if (streaming) {
          pump(ctx);
        } else if (kind == Kind.ECHO) {
          ctx.channel().config().setAutoRead(true);
        }
      }
      ctx.fireChannelWritabilityChanged();
    }

    private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, byte[] body) {
      if (!ctx.channel().isActive()) {
        return;
      }
      FullHttpResponse resp =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
      resp.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
      resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
      connectionHeader(resp);
      ctx.writeAndFlush(resp).addListener(done());
    }

    private void connectionHeader(HttpResponse resp) {
      if (!keepAlive) {
        resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
    }

    private ChannelFutureListener done() {
      return keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
