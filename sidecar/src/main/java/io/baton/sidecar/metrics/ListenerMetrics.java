package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The metrics of one listener; all methods are safe from any event loop. */
public final class ListenerMetrics {

  /** The {@code protocol} label of requests: HTTP/1.1 exchanges and HTTP/2 streams. */
  public static final String HTTP1 = "http1";

  public static final String H2 = "h2";
  private static final String[] CLASSES = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

  private final AtomicLong connectionsActive = new AtomicLong();
  private final AtomicLong drainConnections = new AtomicLong();
  private final Counter accepted;
  private final Counter limitReached;
  private final Counter fdsReserveReached;
  private final Counter acceptFailed;
  private final AtomicLong connectionLimit = new AtomicLong();
  private final RequestSeries http1;

  /**
   * Registered by {@link #exportHttp2()} when an HTTP listener is created, so that a scrape has
   * every h2 series at 0 before the first HTTP/2 client comes: a dashboard panel or alert on them
   * then has data (and {@code rate()} a first sample) from the start, not from the first stream.
   */
  private volatile Http2Series http2;

  /**
   * By protocol; registered on first use (building a Counter per moved connection cost 10,000
   * registry lookups).
   */
  private final Map<String, Counter> migratedIn = new ConcurrentHashMap<>();

  private final Map<String, Counter> sentToSuccessor = new ConcurrentHashMap<>();
  private final Map<String, Counter> ownedBySuccessor = new ConcurrentHashMap<>();
  private final Map<String, Counter> resumedAfterSuccessorLoss = new ConcurrentHashMap<>();

  /**
   * By scope and error code; registered on first use: a healthy listener never has one, and the
   * codes a client can break are many (a series per code at 0 would be noise on every scrape).
   */
  private final Map<String, Counter> http2ProtocolErrors = new ConcurrentHashMap<>();

  private final MeterRegistry registry;
  private final String listener;

  ListenerMetrics(MeterRegistry registry, String listener) {
    this.registry = registry;
    this.listener = listener;
    Gauge.builder("baton.connections.active", connectionsActive, AtomicLong::get)
        .description("Client connections open on this listener")
        .tag("listener", listener)
        .register(registry);
    Gauge.builder("baton.drain.connections", drainConnections, AtomicLong::get)
        .description("Connections still open on this listener while the process drains")
        .tag("listener", listener)
        .register(registry);
    accepted =
        Counter.builder("baton.connections.accepted")
            .description("Client connections accepted on this listener")
            .tag("listener", listener)
            .register(registry);
    limitReached =
        Counter.builder("baton.listener.connection.limit.reached")
            .description(
                "Times this listener stopped accepting because it held listeners[].maxConnections"
                    + " connections (new clients wait in the kernel's queue)")
            .tag("listener", listener)
            .register(registry);
    fdsReserveReached = shortOfFdsCounter("reserve_reached");
    acceptFailed = shortOfFdsCounter("accept_failed");
    Gauge.builder("baton.listener.connection.limit", connectionLimit, AtomicLong::get)
        .description("listeners[].maxConnections of this listener; 0 for no limit")
        .tag("listener", listener)
        .register(registry);
    http1 = new RequestSeries(HTTP1);
  }

  /** The requests of one protocol: answered by status class, and in flight. */
  private final class RequestSeries {
    final AtomicLong active = new AtomicLong();

    /** Indexed by status / 100 (1..5); index 0 counts anything outside 100..599. */
    final Counter[] byClass = new Counter[6];

    RequestSeries(String protocol) {
      Gauge.builder("baton.requests.active", active, AtomicLong::get)
          .description("HTTP requests (HTTP/2 streams) received and not yet fully answered")
          .tag("listener", listener)
          .tag("protocol", protocol)
          .register(registry);
      for (int i = 0; i < CLASSES.length; i++) {
        byClass[i] =
            Counter.builder("baton.requests")
                .description("HTTP requests (HTTP/2 streams) answered, by status class")
                .tag("listener", listener)
                .tag("code_class", CLASSES[i])
                .tag("protocol", protocol)
                .register(registry);
      }
    }

    void finished(int status) {
      active.decrementAndGet();
      int cls = status / 100;
      byClass[cls >= 1 && cls <= 5 ? cls : 0].increment();
    }
  }

  /**
   * The HTTP/2 series of this listener: streams by status class and in flight, and its drain
   * counters.
   */
  private final class Http2Series {
    final RequestSeries streams = new RequestSeries(H2);
    final Counter goawayFirst = goawayCounter("first");
    final Counter goawayFinal = goawayCounter("final");
    final Counter streamsRefused =
        Counter.builder("baton.http2.streams.refused")
            .description(
                "HTTP/2 client streams refused with REFUSED_STREAM (above the final GOAWAY or the"
                    + " stream limit)")
            .tag("listener", listener)
            .register(registry);
    final Counter streamsCompletedDuringDrain =
        Counter.builder("baton.http2.drain.streams.completed")
            .description("HTTP/2 streams that completed while the process drained")
            .tag("listener", listener)
            .register(registry);
  }

  /**
   * Registers every HTTP/2 series of this listener at 0 (idempotent). Called for each listener of
   * protocol {@code http} (cleartext or TLS: both speak h2) when it is created; a TCP listener has
   * none. A counter carried from a predecessor registers the same series (same name and tags), so
   * registering first or second returns one counter either way: nothing is counted twice.
   */
  public void exportHttp2() {
    http2();
  }

  private Http2Series http2() {
    Http2Series s = http2;
    if (s == null) {
      synchronized (this) {
        if (http2 == null) {
          http2 = new Http2Series();
        }
        s = http2;
      }
    }
    return s;
  }

  /**
   * The tags a counter carried from a predecessor gets here: a predecessor older than the {@code
   * protocol} label counted HTTP/1.1 only (roll-forward; a roll-back drops the label, and the older
   * carrier registers it as a new series).
   */
  public static Map<String, String> upgradeCarriedTags(String name, Map<String, String> tags) {
    if ("baton.requests".equals(name) && !tags.containsKey("protocol")) {
      Map<String, String> upgraded = new HashMap<>(tags);
      upgraded.put("protocol", HTTP1);
      return upgraded;
    }
    return tags;
  }

  public void connectionOpened() {
    accepted.increment();
    connectionsActive.incrementAndGet();
  }

  /** A connection moved here from the predecessor, which counted it as accepted. */
  public void connectionAdopted() {
    connectionsActive.incrementAndGet();
  }

  public void connectionClosed() {
    connectionsActive.decrementAndGet();
  }

  public void connectionLimit(int limit) {
    connectionLimit.set(limit);
  }

  private Counter shortOfFdsCounter(String reason) {
    return Counter.builder("baton.listener.fds.short")
        .description(
            "Times this listener stopped accepting for want of file descriptors: reserve_reached"
                + " (fewer than the reserve left), accept_failed (EMFILE, ENFILE, ENOBUFS...)")
        .tag("listener", listener)
        .tag("reason", reason)
        .register(registry);
  }

  /** The listener stopped accepting for want of file descriptors. */
  public void shortOfFds(boolean acceptFailed) {
    (acceptFailed ? this.acceptFailed : fdsReserveReached).increment();
  }

  /** The listener held its connection limit and stopped accepting. */
  public void connectionLimitReached() {
    limitReached.increment();
  }

  public long connectionsActive() {
    return connectionsActive.get();
  }

  /** An HTTP/1.1 request arrived. */
  public void requestStarted() {
    http1.active.incrementAndGet();
  }

  /**
   * An HTTP/1.1 request ended with {@code status} sent to the client (or 0 if it ended without a
   * response).
   */
  public void requestFinished(int status) {
    http1.finished(status);
  }

  /** An HTTP/2 stream opened by a client arrived. */
  public void streamStarted() {
    http2().streams.active.incrementAndGet();
  }

  /** An HTTP/2 stream ended with {@code status} sent (0: reset or failed without a response). */
  public void streamFinished(int status) {
    http2().streams.finished(status);
  }

  /** HTTP/1.1 requests and HTTP/2 streams in flight: what a drain waits for. */
  public long requestsActive() {
    Http2Series s = http2;
    return http1.active.get() + (s == null ? 0 : s.streams.active.get());
  }

  /**
   * A draining HTTP/2 connection sent its {@code first} (last stream 2^31-1) or {@code final}
   * GOAWAY.
   */
  public void http2GoawaySent(String phase) {
    Http2Series s = http2();
    ("first".equals(phase) ? s.goawayFirst : s.goawayFinal).increment();
  }

  /** An HTTP/2 stream was refused with RST_STREAM(REFUSED_STREAM): never processed. */
  public void http2StreamRefused() {
    http2().streamsRefused.increment();
  }

  /** An HTTP/2 stream accepted before the drain completed while the process drained. */
  public void http2StreamCompletedDuringDrain() {
    http2().streamsCompletedDuringDrain.increment();
  }

  /**
   * An HTTP/2 client broke the protocol and was answered {@code error} (an RFC 9113 error code
   * name, e.g. {@code PROTOCOL_ERROR}): on its whole connection (scope {@code connection}: GOAWAY)
   * or on one stream (scope {@code stream}: RST_STREAM).
   */
  public void http2ProtocolError(String scope, String error) {
    if (!"connection".equals(scope) && !"stream".equals(scope)) {
      throw new IllegalArgumentException("scope: " + scope + " (expected: connection or stream)");
    }
    String code = error.toLowerCase(Locale.ROOT);
    http2ProtocolErrors
        .computeIfAbsent(
            scope + " " + code,
            k ->
                Counter.builder("baton.http2.protocol.errors")
                    .description(
                        "HTTP/2 protocol violations by clients, by scope (connection: answered"
                            + " GOAWAY; stream: answered RST_STREAM) and error code")
                    .tag("listener", listener)
                    .tag("scope", scope)
                    .tag("error", code)
                    .register(registry))
        .increment();
  }

  private Counter goawayCounter(String phase) {
    return Counter.builder("baton.http2.goaway.sent")
        .description(
            "GOAWAY frames sent by draining HTTP/2 connections, by phase (first: last stream"
                + " 2^31-1; final)")
        .tag("listener", listener)
        .tag("phase", phase)
        .register(registry);
  }

  public void setDrainConnections(long value) {
    drainConnections.set(value);
  }

  /**
   * A live connection arrived from the predecessor; {@code protocol} as in {@code http1}, {@code
   * tcp}.
   */
  public void connectionMigratedIn(String protocol) {
    migratedIn
        .computeIfAbsent(
            protocol,
            p ->
                migrationCounter(
                    "baton.connections.migrated",
                    "Live connections received from the predecessor, by protocol",
                    p))
        .increment();
  }

  /** A live connection went to the successor. */
  public void connectionSentToSuccessor(String protocol) {
    sentToSuccessor
        .computeIfAbsent(
            protocol,
            p ->
                migrationCounter(
                    "baton.connections.sent.to.successor",
                    "Live connections handed to the successor, by protocol",
                    p))
        .increment();
  }

  /**
   * A live connection this process sent was confirmed by the successor: it owns it, and this
   * process closed its copy.
   */
  public void connectionOwnedBySuccessor(String protocol) {
    ownedBySuccessor
        .computeIfAbsent(
            protocol,
            p ->
                migrationCounter(
                    "baton.connections.owned.by.successor",
                    "Live connections sent to the successor that it confirmed it owns, by"
                        + " protocol",
                    p))
        .increment();
  }

  /**
   * A live connection this process sent came back: the successor died before it touched it, and
   * this process serves it again.
   */
  public void connectionResumedAfterSuccessorLoss(String protocol) {
    resumedAfterSuccessorLoss
        .computeIfAbsent(
            protocol,
            p ->
                migrationCounter(
                    "baton.connections.resumed.after.successor.loss",
                    "Live connections sent to a successor that died before it touched them,"
                        + " served here again, by protocol",
                    p))
        .increment();
  }

  private Counter migrationCounter(String name, String description, String protocol) {
    // Registered on first use only: a process that never migrates exports neither series.
    return Counter.builder(name)
        .description(description)
        .tag("listener", listener)
        .tag("protocol", protocol)
        .register(registry);
  }
}
