package io.baton.testkit.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;

/**
 * A bounded HTTP/2 (h2c, prior knowledge) load over Netty's HTTP/2 client codec, written to
 * <b>never hide a failure</b>: {@code C} connections each keep up to {@code S} streams open, every
 * request is {@code GET <path><id><query>} with a unique id (also sent as {@code x-request-id}).
 *
 * <p>GOAWAY is honoured: the connection opens no more streams, the client opens a new connection in
 * its place, and the old one is closed once its streams have ended. A stream is never retried once
 * the server may have processed it. Only streams the server provably never processed are sent again
 * (with the same id, on another connection) and counted apart (RFC 9113 §8.7): those above a
 * GOAWAY's last-stream-id and those reset with REFUSED_STREAM. Everything else that does not end
 * with a 2xx response is a failure: a reset, a connection lost under a stream that was not excluded
 * by GOAWAY, a non-2xx status, no end within the stream timeout.
 *
 * <p>This is what {@code h2load} cannot judge: it counts the streams it may not send after a GOAWAY
 * as failed and does not reconnect (design.md).
 *
 * <p>The run stops issuing new ids after {@link Builder#maxRequests(long)} ids, after {@link
 * Builder#maxDuration(Duration)} or at {@link #stop()}; then the streams in flight (and refused
 * ones being sent again) finish.
 */
public final class H2LoadClient {

  private static final int MAX_ERRORS = 10;
  private static final long RECONNECT_PAUSE_MILLIS = 50;

  private final String host;
  private final int port;
  private final int connections;
  private final int streams;
  private final long maxRequests;
  private final Duration maxDuration;
  private final Duration streamTimeout;
  private final String path;
  private final String query;
  private final String idPrefix;

  /** TLS with ALPN h2 instead of h2c, when set. */
  private final SslContext tls;

  private final String tlsServerName;

  private final EventLoopGroup group;
  private final AtomicLong claimed = new AtomicLong();

  /** Ids claimed and not yet ended (a refused one waiting to be sent again stays here). */
  private final AtomicLong outstanding = new AtomicLong();

  private final Queue<String> resend = new ConcurrentLinkedQueue<>();
  private final Queue<String> idsSent = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean noMoreNew = new AtomicBoolean();
  private final AtomicBoolean finished = new AtomicBoolean();
  private final CountDownLatch done = new CountDownLatch(1);
  private final List<Slot> slots = new ArrayList<>();
  private final Map<String, LongAdder> perGeneration = new ConcurrentHashMap<>();
  private final List<String> errors = new ArrayList<>();

  private final LongAdder completed = new LongAdder();
  private final LongAdder failedStatus = new LongAdder();
  private final LongAdder failedReset = new LongAdder();
  private final LongAdder failedLost = new LongAdder();
  private final LongAdder failedTimeout = new LongAdder();
  private final LongAdder refusedGoaway = new LongAdder();
  private final LongAdder refusedStream = new LongAdder();
  private final LongAdder opened = new LongAdder();
  private final LongAdder connectFailures = new LongAdder();
  private final LongAdder goaways = new LongAdder();

  private volatile long startNanos;
  private volatile long endNanos;
  private volatile long deadlineNanos;

  private H2LoadClient(Builder b) {
    host = b.host;
    port = b.port;
    connections = b.connections;
    streams = b.streams;
    maxRequests = b.maxRequests;
    maxDuration = b.maxDuration;
    streamTimeout = b.streamTimeout;
    path = b.path;
    query = b.query;
    tls = b.tls;
    tlsServerName = b.tlsServerName;
    idPrefix =
        b.idPrefix != null
            ? b.idPrefix
            : "h2" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 35), 36);
    group =
        new MultiThreadIoEventLoopGroup(
            Math.min(connections, 2),
            new DefaultThreadFactory("h2-load", true),
            EpollIoHandler.newFactory());
  }

  public static Builder builder(String host, int port) {
    return new Builder(host, port);
  }

  /** Opens the connections and starts sending. */
  public H2LoadClient start() {
    startNanos = System.nanoTime();
    deadlineNanos = maxDuration == null ? Long.MAX_VALUE : startNanos + maxDuration.toNanos();
    if (maxDuration != null) {
      group.next().schedule(this::stop, maxDuration.toNanos(), TimeUnit.NANOSECONDS);
    }
    synchronized (slots) {
      for (int i = 0; i < connections; i++) {
        Slot s = new Slot();
        slots.add(s);
        s.connect();
      }
    }
    return this;
  }

  /** Issues no new ids; the streams in flight finish. */
  public void stop() {
    if (noMoreNew.compareAndSet(false, true)) {
      maybeFinish();
    }
  }

  /**
   * Waits up to {@code timeout} for the run to end (its bounds, or {@link #stop()}, then the
   * streams in flight), closes everything, returns the counts; {@code finished} is false if it had
   * not ended.
   */
  public H2LoadResult awaitResult(Duration timeout) throws InterruptedException {
    boolean ended = done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    H2LoadResult r = result();
    finish();
    return ended ? result() : r;
  }

  /** A snapshot of the counts so far. */
  public H2LoadResult result() {
    long end = finished.get() ? endNanos : System.nanoTime();
    Map<String, Long> gens = new HashMap<>();
    perGeneration.forEach((k, v) -> gens.put(k, v.sum()));
    List<String> errs;
    synchronized (errors) {
      errs = List.copyOf(errors);
    }
    return new H2LoadResult(
        idsSent.size(),
        completed.sum(),
        failedStatus.sum(),
        failedReset.sum(),
        failedLost.sum(),
        failedTimeout.sum(),
        refusedGoaway.sum(),
        refusedStream.sum(),
        opened.sum(),
        connectFailures.sum(),
        goaways.sum(),
        gens,
        errs,
        Duration.ofNanos(Math.max(0, end - startNanos)),
        finished.get());
  }

  /** Every id sent (once each, whether or not it was sent again after a refusal). */
  public List<String> idsSent() {
    return List.copyOf(idsSent);
  }

  /**
   * The next id to send: a refused one first, else a new one while the run lasts; null when none.
   */
  private String nextId() {
    String again = resend.poll();
    if (again != null) {
      return again;
    }
    if (noMoreNew.get() || System.nanoTime() >= deadlineNanos) {
      stop();
      return null;
    }
    long n = claimed.incrementAndGet();
    if (n > maxRequests) {
      stop();
      return null;
    }
    outstanding.incrementAndGet();
    String id = idPrefix + "-" + n;
    idsSent.add(id);
    return id;
  }

  private void ended() {
    outstanding.decrementAndGet();
    maybeFinish();
  }

  private void maybeFinish() {
    if (noMoreNew.get() && outstanding.get() == 0 && resend.isEmpty()) {
      finish();
    }
  }

  private void finish() {
    if (finished.compareAndSet(false, true)) {
      endNanos = System.nanoTime();
      synchronized (slots) {
        slots.forEach(Slot::close);
      }
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      done.countDown();
    }
  }

  private void error(String id, String what) {
    synchronized (errors) {
      if (errors.size() < MAX_ERRORS) {
        errors.add(id + ": " + what);
      }
    }
  }

  /** A refused request goes back to be sent on a connection that may still open streams. */
  private void refused(String id) {
    resend.add(id);
    synchronized (slots) {
      slots.forEach(Slot::kick);
    }
  }

  /** One of the C connection places: its current connection, replaced after a GOAWAY or a loss. */
  private final class Slot {
    private volatile Conn current;

    void connect() {
      if (finished.get()) {
        return;
      }
      Conn c = new Conn(this);
      current = c;
      c.open();
    }

    /**
     * After a connect failure or an unexpected close: a new connection, a moment later (no request
     * is retried).
     */
    void reconnectLater() {
      if (!finished.get() && !(noMoreNew.get() && outstanding.get() == 0)) {
        try {
          group.next().schedule(this::connect, RECONNECT_PAUSE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
          // the run has just finished
        }
      }
    }

    void kick() {
      Conn c = current;
      if (c != null) {
        c.kick();
      }
    }

    void close() {
      Conn c = current;
      if (c != null) {
        c.close();
      }
    }
  }

  /** A request on the wire. */
  private static final class Req {
    final String id;
    int status;
    String generation;
    ScheduledFuture<?> timeout;

    Req(String id) {
      this.id = id;
    }
  }

  /** One HTTP/2 connection. Every field is touched on its event loop only. */
  private final class Conn extends Http2FrameAdapter {
    private final Slot slot;
    private final Map<Integer, Req> active = new HashMap<>();
    private Channel channel;
    private ChannelHandlerContext ctx;
    private Http2ConnectionHandler handler;

    /** A GOAWAY arrived: open no more streams here. */
    private boolean goingAway;

    private int lastStreamId = Integer.MAX_VALUE;
    private boolean replaced;

    Conn(Slot slot) {
      this.slot = slot;
    }

    void open() {
      Conn self = this;
      ChannelFuture f =
          new Bootstrap()
              .group(group)
              .channel(EpollSocketChannel.class)
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
              .handler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      handler =
                          new Http2ConnectionHandlerBuilder()
                              .server(false)
                              .frameListener(self)
                              .build();
                      if (tls != null) {
                        // The preface and the first streams wait in the TLS handler until its
                        // handshake is done.
                        ch.pipeline().addLast(tls.newHandler(ch.alloc(), tlsServerName, port));
                      }
                      ch.pipeline()
                          .addLast(
                              handler,
                              new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext c) {
                                  ctx = c.pipeline().context(handler);
                                  opened.increment();
                                  fill();
                                  c.fireChannelActive();
                                }

                                @Override
                                public void channelInactive(ChannelHandlerContext c) {
                                  lost();
                                  c.fireChannelInactive();
                                }

                                @Override
                                public void exceptionCaught(
                                    ChannelHandlerContext c, Throwable cause) {
                                  c.close();
                                }
                              });
                    }
                  })
              .connect(host, port);
      channel = f.channel();
      f.addListener(
          r -> {
            if (!r.isSuccess()) {
              connectFailures.increment();
              slot.reconnectLater();
            }
          });
    }

    void kick() {
      if (channel != null && !finished.get()) {
        try {
          channel.eventLoop().execute(this::fill);
        } catch (RejectedExecutionException e) {
          // the run has just finished: nothing more to send
        }
      }
    }

    void close() {
      if (channel != null) {
        channel.close();
      }
    }

    /** Opens streams up to S while this connection may. */
    private void fill() {
      if (ctx == null || !channel.isActive() || goingAway) {
        return;
      }
      boolean wrote = false;
      while (active.size() < streams && handler.connection().local().canOpenStream()) {
        String id = nextId();
        if (id == null) {
          break;
        }
        send(id);
        wrote = true;
      }
      if (wrote) {
        ctx.flush();
      }
    }

    private void send(String id) {
      int streamId = handler.connection().local().incrementAndGetNextStreamId();
      Req r = new Req(id);
      active.put(streamId, r);
      Http2Headers h =
          new DefaultHttp2Headers()
              .method("GET")
              .scheme("http")
              .authority(host + ":" + port)
              .path(path + id + query);
      h.set("x-request-id", id);
      r.timeout =
          channel
              .eventLoop()
              .schedule(() -> timedOut(streamId), streamTimeout.toNanos(), TimeUnit.NANOSECONDS);
      handler
          .encoder()
          .writeHeaders(ctx, streamId, h, 0, true, ctx.newPromise())
          .addListener(
              w -> {
                if (!w.isSuccess() && channel.isActive()) {
                  // The codec refused to write it (e.g. a stream limit raced): it never left this
                  // process.
                  Req gone = active.remove(streamId);
                  if (gone != null) {
                    gone.timeout.cancel(false);
                    refusedStream.increment();
                    refused(gone.id);
                  }
                }
              });
    }

    private void timedOut(int streamId) {
      Req r = active.remove(streamId);
      if (r != null) {
        failedTimeout.increment();
        error(r.id, "no end of stream " + streamId + " within " + streamTimeout.toMillis() + " ms");
        handler.resetStream(ctx, streamId, Http2Error.CANCEL.code(), ctx.newPromise());
        ctx.flush();
        ended();
        afterStreamEnd();
      }
    }

    @Override
    public void onHeadersRead(
        ChannelHandlerContext c,
        int streamId,
        Http2Headers headers,
        int padding,
        boolean endOfStream) {
      Req r = active.get(streamId);
      if (r == null) {
        return;
      }
      if (headers.status() != null && r.status == 0) {
        try {
          int s = Integer.parseInt(headers.status().toString());
          if (s >= 200) {
            r.status = s;
          }
        } catch (NumberFormatException e) {
          r.status = -1;
        }
        CharSequence gen = headers.get("x-baton-generation");
        if (gen != null) {
          r.generation = gen.toString();
        }
      }
      if (endOfStream) {
        complete(streamId);
      }
    }

    @Override
    public void onHeadersRead(
        ChannelHandlerContext c,
        int streamId,
        Http2Headers headers,
        int streamDependency,
        short weight,
        boolean exclusive,
        int padding,
        boolean endOfStream) {
      onHeadersRead(c, streamId, headers, padding, endOfStream);
    }

    @Override
    public int onDataRead(
        ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
      int consumed = data.readableBytes() + padding;
      if (endOfStream) {
        complete(streamId);
      }
      return consumed;
    }

    private void complete(int streamId) {
      Req r = active.remove(streamId);
      if (r == null) {
        return;
      }
      r.timeout.cancel(false);
      if (r.status >= 200 && r.status < 300) {
        completed.increment();
        if (r.generation != null) {
          perGeneration.computeIfAbsent(r.generation, k -> new LongAdder()).increment();
        }
      } else {
        failedStatus.increment();
        error(r.id, "status " + r.status + " on stream " + streamId);
      }
      ended();
      afterStreamEnd();
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
      Req r = active.remove(streamId);
      if (r == null) {
        return;
      }
      r.timeout.cancel(false);
      if (errorCode == Http2Error.REFUSED_STREAM.code()) {
        refusedStream.increment();
        refused(r.id);
      } else {
        failedReset.increment();
        error(
            r.id,
            "stream "
                + streamId
                + " reset by the server with "
                + Http2Error.valueOf(errorCode)
                + " ("
                + errorCode
                + ")");
        ended();
      }
      afterStreamEnd();
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext c, int last, long errorCode, ByteBuf debugData) {
      goaways.increment();
      goingAway = true;
      lastStreamId = Math.min(lastStreamId, last);
      // Streams above last-stream-id were never processed (RFC 9113 §6.8): send them again
      // elsewhere.
      active
          .entrySet()
          .removeIf(
              e -> {
                if (e.getKey() > lastStreamId) {
                  e.getValue().timeout.cancel(false);
                  refusedGoaway.increment();
                  refused(e.getValue().id);
                  return true;
                }
                return false;
              });
      if (!replaced) {
        replaced = true;
        slot.connect();
      }
      afterStreamEnd();
    }

    /** A connection told to go away is closed by us once its last stream has ended. */
    private void afterStreamEnd() {
      if (goingAway && active.isEmpty()) {
        channel.close();
      } else {
        fill();
      }
    }

    /**
     * The connection ended: what it still carried may have been processed, unless GOAWAY excluded
     * it.
     */
    private void lost() {
      for (Map.Entry<Integer, Req> e : active.entrySet()) {
        Req r = e.getValue();
        r.timeout.cancel(false);
        if (e.getKey() > lastStreamId) {
          refusedGoaway.increment();
          refused(r.id);
        } else {
          failedLost.increment();
          error(
              r.id,
              "connection lost under stream "
                  + e.getKey()
                  + (goingAway ? " (at or below GOAWAY last-stream-id " + lastStreamId + ")" : ""));
          ended();
        }
      }
      active.clear();
      if (!replaced) {
        replaced = true;
        slot.reconnectLater();
      }
    }
  }

  /** Configures an {@link H2LoadClient}. */
  public static final class Builder {
    private final String host;
    private final int port;
    private int connections = 4;
    private int streams = 8;
    private long maxRequests = Long.MAX_VALUE;
    private Duration maxDuration;
    private Duration streamTimeout = Duration.ofSeconds(10);
    private String path = "/load/";
    private String query = "";
    private String idPrefix;
    private SslContext tls;
    private String tlsServerName;

    private Builder(String host, int port) {
      this.host = Objects.requireNonNull(host);
      this.port = port;
    }

    /** Connections kept open (C, default 4). */
    public Builder connections(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("connections: " + n + " (expected at least 1)");
      }
      connections = n;
      return this;
    }

    /** Concurrent streams per connection (S, default 8). */
    public Builder streams(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("streams: " + n + " (expected at least 1)");
      }
      streams = n;
      return this;
    }

    /** Stop issuing ids after this many. */
    public Builder maxRequests(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxRequests: " + n + " (expected at least 0)");
      }
      maxRequests = n;
      return this;
    }

    /** Stop issuing ids after this long. */
    public Builder maxDuration(Duration d) {
      maxDuration = Objects.requireNonNull(d);
      return this;
    }

    /**
     * A stream without an end this long after it was sent fails (timeout) and is cancelled (default
     * 10 s).
     */
    public Builder streamTimeout(Duration d) {
      streamTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** The path the id is appended to (default {@code /load/}). */
    public Builder path(String p) {
      path = Objects.requireNonNull(p);
      return this;
    }

    /** Appended after the id, e.g. {@code ?delay=50} (default empty). */
    public Builder query(String q) {
      query = Objects.requireNonNull(q);
      return this;
    }

    /** Request ids are {@code <prefix>-<n>}; default a random {@code h2XXXXXX}. */
    public Builder idPrefix(String prefix) {
      idPrefix = Objects.requireNonNull(prefix);
      return this;
    }

    /**
     * HTTP/2 over TLS (ALPN {@code h2}) instead of h2c: the server's certificate must chain to the
     * PEM certificates in {@code trusted} and name {@code serverName} (also sent as SNI).
     */
    public Builder tls(Path trusted, String serverName) {
      try {
        tls =
            SslContextBuilder.forClient()
                .trustManager(trusted.toFile())
                .applicationProtocolConfig(
                    new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2))
                .build();
      } catch (SSLException e) {
        throw new IllegalArgumentException(
            "tls trusted: \"" + trusted + "\" (expected PEM certificates): " + e.getMessage(), e);
      }
      tlsServerName = Objects.requireNonNull(serverName);
      return this;
    }

    /** The client; bounded by maxRequests and/or maxDuration (at least one must be set). */
    public H2LoadClient build() {
      if (maxRequests == Long.MAX_VALUE && maxDuration == null) {
        throw new IllegalStateException("set maxRequests or maxDuration: the load must be bounded");
      }
      return new H2LoadClient(this);
    }
  }
}
