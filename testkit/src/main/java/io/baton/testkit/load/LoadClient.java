package io.baton.testkit.load;

import io.baton.testkit.client.TlsClient;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;

/**
 * HTTP/1.1 load over plain {@link Socket}s, written to <b>never hide a failure</b>: no client
 * library, no retries. Each worker thread sends {@code GET <path><id>} (default path {@code
 * /load/}) with a unique id, also sent as {@code X-Request-Id}, and every request is counted
 * exactly once as ok (2xx read completely), failedStatus (non-2xx) or failedIo (connect refused,
 * reset, EOF before a complete response, read timeout, malformed response).
 *
 * <p>{@link Mode#KEEP_ALIVE} reuses a connection; after a response carrying {@code Connection:
 * close} it reads that response fully and opens a new connection for the <i>next</i> request
 * (honouring the server; the request that got the response is not sent again). After an I/O failure
 * the connection is dropped and the next request (a new id) opens a new one. {@link Mode#CLOSE}
 * sends {@code Connection: close} on every request. With {@link Builder#tls} every connection is
 * TLS (the JDK's engine), its handshake part of the request that opened it.
 *
 * <p>The run is bounded: it stops after {@link Builder#maxRequests(long)} requests in total or
 * {@link Builder#maxDuration(Duration)}, whichever comes first, or at {@link #stop()}; a request in
 * flight then finishes (bounded by the read timeout).
 *
 * <pre>{@code
 * LoadClient c = LoadClient.builder("127.0.0.1", port).workers(32).mode(Mode.KEEP_ALIVE)
 *     .maxRequests(10_000).maxDuration(Duration.ofSeconds(30)).build().start();
 * LoadResult r = c.awaitResult(Duration.ofSeconds(60));
 * }</pre>
 */
public final class LoadClient {

  /** Connection handling. */
  public enum Mode {
    /** Reuse the connection until the server says {@code Connection: close} or an error. */
    KEEP_ALIVE,
    /** {@code Connection: close} on every request: one connection per request. */
    CLOSE
  }

  /** Response header naming the Baton generation that served the request. */
  public static final String GENERATION_HEADER = "X-Baton-Generation";

  private static final int MAX_ERRORS = 10;
  private static final int MAX_LINE = 16 * 1024;

  private final String host;
  private final int port;
  private final int workers;
  private final Mode mode;
  private final long maxRequests;
  private final Duration maxDuration;
  private final Duration readTimeout;
  private final Duration connectTimeout;
  private final String idPrefix;
  private final String path;
  private final SSLContext tls;
  private final String tlsServerName;

  private final AtomicLong claimed = new AtomicLong();
  private final LongAdder attempted = new LongAdder();
  private final LongAdder ok = new LongAdder();
  private final LongAdder failedStatus = new LongAdder();
  private final LongAdder failedIo = new LongAdder();
  private final LongAdder closeResponses = new LongAdder();
  private final LongAdder connections = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> perGeneration = new ConcurrentHashMap<>();
  private final List<String> errors = new ArrayList<>();
  private final ConcurrentLinkedQueue<String> idsSent = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicInteger running = new AtomicInteger();
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile long startNanos;
  private volatile long endNanos;
  private volatile long deadlineNanos;

  private LoadClient(Builder b) {
    host = b.host;
    port = b.port;
    workers = b.workers;
    mode = b.mode;
    maxRequests = b.maxRequests;
    maxDuration = b.maxDuration;
    readTimeout = b.readTimeout;
    connectTimeout = b.connectTimeout;
    idPrefix =
        b.idPrefix != null
            ? b.idPrefix
            : "lc" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
    path = b.path;
    tls = b.tls;
    tlsServerName = b.tlsServerName;
  }

  /** A builder for load against {@code host:port}. */
  public static Builder builder(String host, int port) {
    return new Builder(host, port);
  }

  /** Starts the worker threads; returns this. May be called once. */
  public LoadClient start() {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("already started");
    }
    startNanos = System.nanoTime();
    deadlineNanos = maxDuration == null ? Long.MAX_VALUE : startNanos + maxDuration.toNanos();
    running.set(workers);
    for (int i = 0; i < workers; i++) {
      Thread t = new Thread(this::work, "load-" + idPrefix + "-" + i);
      t.setDaemon(true);
      t.start();
    }
    return this;
  }

  /** Ends the run early: no new request starts; requests in flight finish. */
  public void stop() {
    stopped.set(true);
  }

  /** Whether every worker has finished. */
  public boolean isFinished() {
    return done.getCount() == 0;
  }

  /**
   * Waits for the run to end (its bounds or {@link #stop()}) and returns the final result.
   *
   * @throws IllegalStateException if it has not ended within {@code timeout} (with a snapshot)
   */
  public LoadResult awaitResult(Duration timeout) {
    if (!started.get()) {
      throw new IllegalStateException("not started");
    }
    try {
      if (!done.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("load not finished within " + timeout + ": " + result());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return result();
  }

  /** The result so far (a snapshot while running; final once finished). */
  public LoadResult result() {
    boolean finished = isFinished();
    long end = finished ? endNanos : System.nanoTime();
    Map<String, Long> gens = new HashMap<>();
    perGeneration.forEach((k, v) -> gens.put(k, v.sum()));
    List<String> errs;
    synchronized (errors) {
      errs = List.copyOf(errors);
    }
    // Read the outcome counters before attempted so a snapshot never shows more outcomes than
    // attempts.
    long okN = ok.sum();
    long st = failedStatus.sum();
    long io = failedIo.sum();
    return new LoadResult(
        Math.max(attempted.sum(), okN + st + io),
        okN,
        st,
        io,
        closeResponses.sum(),
        connections.sum(),
        gens,
        errs,
        Duration.ofNanos(started.get() ? end - startNanos : 0),
        finished);
  }

  /** The ids of every request attempted (sent or tried to send), in no particular order. */
  public List<String> idsSent() {
    return List.copyOf(idsSent);
  }

  /** The prefix of this client's request ids ({@code <prefix>-<n>}). */
  public String idPrefix() {
    return idPrefix;
  }

  // ---------------------------------------------------------------------------------------------

  private void work() {
    Conn conn = null;
    try {
      while (!stopped.get() && System.nanoTime() < deadlineNanos) {
        long n = claimed.incrementAndGet();
        if (n > maxRequests) {
          break;
        }
        String id = idPrefix + "-" + n;
        idsSent.add(id);
        attempted.increment();
        try {
          if (conn == null) {
            conn = connect();
          }
          Response r = exchange(conn, id);
          if (r.status >= 200 && r.status < 300) {
            ok.increment();
          } else {
            failedStatus.increment();
          }
          if (r.connectionClose) {
            closeResponses.increment();
          }
          if (r.generation != null) {
            perGeneration.computeIfAbsent(r.generation, k -> new LongAdder()).increment();
          }
          if (r.connectionClose || r.readToEof || mode == Mode.CLOSE) {
            conn.close();
            conn = null;
          }
        } catch (IOException | RuntimeException e) {
          failedIo.increment();
          recordError(id, e);
          if (conn != null) {
            conn.close();
            conn = null;
          }
        }
      }
    } finally {
      if (conn != null) {
        conn.close();
      }
      if (running.decrementAndGet() == 0) {
        endNanos = System.nanoTime();
        done.countDown();
      }
    }
  }

  private void recordError(String id, Exception e) {
    synchronized (errors) {
      if (errors.size() < MAX_ERRORS) {
        errors.add(id + ": " + e);
      }
    }
  }

  private Conn connect() throws IOException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()));
      s.connect(
          new InetSocketAddress(host, port),
          (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
      if (tls != null) {
        s = TlsClient.wrap(tls, s, tlsServerName);
      }
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    connections.increment();
    return new Conn(s, new BufferedInputStream(s.getInputStream(), 16 * 1024), s.getOutputStream());
  }

  private Response exchange(Conn c, String id) throws IOException {
    String req =
        "GET "
            + path
            + id
            + " HTTP/1.1\r\n"
            + "Host: "
            + host
            + ":"
            + port
            + "\r\n"
            + "X-Request-Id: "
            + id
            + "\r\n"
            + "User-Agent: baton-loadclient\r\n"
            + (mode == Mode.CLOSE ? "Connection: close\r\n" : "")
            + "\r\n";
    c.out.write(req.getBytes(StandardCharsets.US_ASCII));
    c.out.flush();
    return readResponse(c.in);
  }

  /** Reads one complete response (skipping 1xx interim responses). */
  static Response readResponse(InputStream in) throws IOException {
    while (true) {
      String statusLine = readLine(in, true);
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("malformed status line: \"" + statusLine + "\"");
      }
      int status;
      try {
        status = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IOException("malformed status line: \"" + statusLine + "\"");
      }
      boolean http10 = parts[0].equals("HTTP/1.0");
      long contentLength = -1;
      boolean chunked = false;
      Boolean connClose = null;
      String generation = null;
      while (true) {
        String line = readLine(in, false);
        if (line.isEmpty()) {
          break;
        }
        int colon = line.indexOf(':');
        if (colon <= 0) {
          throw new IOException("malformed header line: \"" + line + "\"");
        }
        String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(colon + 1).trim();
        switch (name) {
          case "content-length" -> contentLength = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
          case "connection" -> {
            String v = value.toLowerCase(Locale.ROOT);
            if (v.contains("close")) {
              connClose = true;
            } else if (v.contains("keep-alive") && connClose == null) {
              connClose = false;
            }
          }
          case "x-baton-generation" -> generation = value;
          default -> {}
        }
      }
      if (status >= 100 && status < 200) {
        continue; // interim response; the final one follows
      }
      boolean close = connClose != null ? connClose : http10;
      boolean readToEof = false;
      if (status == 204 || status == 304) {
        // no body
      } else if (chunked) {
        readChunked(in);
      } else if (contentLength >= 0) {
        in.skipNBytes(contentLength);
      } else {
        // Delimited by EOF.
        in.transferTo(OutputStream.nullOutputStream());
        readToEof = true;
      }
      return new Response(status, close, readToEof, generation);
    }
  }

  private static void readChunked(InputStream in) throws IOException {
    while (true) {
      String sizeLine = readLine(in, false);
      int semi = sizeLine.indexOf(';');
      String hex = (semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim();
      long size;
      try {
        size = Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new IOException("malformed chunk size: \"" + sizeLine + "\"");
      }
      if (size == 0) {
        while (!readLine(in, false).isEmpty()) {
          // trailers
        }
        return;
      }
      in.skipNBytes(size);
      if (!readLine(in, false).isEmpty()) {
        throw new IOException("missing CRLF after a chunk");
      }
    }
  }

  private static String readLine(InputStream in, boolean first) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(64);
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException(
            first && line.size() == 0
                ? "connection closed before a response"
                : "connection closed in the middle of a response");
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int len =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
      }
      if (line.size() >= MAX_LINE) {
        throw new IOException("response line longer than " + MAX_LINE + " bytes");
      }
      line.write(b);
    }
  }

  record Response(int status, boolean connectionClose, boolean readToEof, String generation) {}

  private record Conn(Socket socket, InputStream in, OutputStream out) {
    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing to do
      }
    }
  }

  /** Configures a {@link LoadClient}. */
  public static final class Builder {
    private final String host;
    private final int port;
    private int workers = 8;
    private Mode mode = Mode.KEEP_ALIVE;
    private long maxRequests = Long.MAX_VALUE;
    private Duration maxDuration;
    private Duration readTimeout = Duration.ofSeconds(10);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private String idPrefix;
    private String path = "/load/";
    private SSLContext tls;
    private String tlsServerName;

    private Builder(String host, int port) {
      this.host = Objects.requireNonNull(host);
      this.port = port;
    }

    /** Worker threads, each with its own connection (default 8). */
    public Builder workers(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("workers: " + n + " (expected at least 1)");
      }
      workers = n;
      return this;
    }

    /** Connection handling (default {@link Mode#KEEP_ALIVE}). */
    public Builder mode(Mode m) {
      mode = Objects.requireNonNull(m);
      return this;
    }

    /** Stop after this many requests in total, over all workers. */
    public Builder maxRequests(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("maxRequests: " + n);
      }
      maxRequests = n;
      return this;
    }

    /** Stop starting requests after this long. */
    public Builder maxDuration(Duration d) {
      maxDuration = Objects.requireNonNull(d);
      return this;
    }

    /** Socket read timeout; a request that times out counts as failedIo (default 10 s). */
    public Builder readTimeout(Duration d) {
      readTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** Connect timeout (default 5 s). */
    public Builder connectTimeout(Duration d) {
      connectTimeout = Objects.requireNonNull(d);
      return this;
    }

    /** Request ids are {@code <prefix>-<n>}; default a random {@code lcXXXXXX}. */
    public Builder idPrefix(String prefix) {
      idPrefix = Objects.requireNonNull(prefix);
      return this;
    }

    /** The path the id is appended to (default {@code /load/}). */
    public Builder path(String p) {
      path = Objects.requireNonNull(p);
      return this;
    }

    /**
     * Every connection TLS with {@code context} (e.g. {@link TlsClient#trusting}), sending {@code
     * serverName} as SNI and checking the server's certificate names it.
     */
    public Builder tls(SSLContext context, String serverName) {
      tls = Objects.requireNonNull(context);
      tlsServerName = Objects.requireNonNull(serverName);
      return this;
    }

    /** The client; bounded by maxRequests and/or maxDuration (at least one must be set). */
    public LoadClient build() {
      if (maxRequests == Long.MAX_VALUE && maxDuration == null) {
        throw new IllegalStateException("set maxRequests or maxDuration: the load must be bounded");
      }
      return new LoadClient(this);
    }
  }
}
