package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The metrics of one listener; all methods are safe from any event loop. */
public final class ListenerMetrics {

  private final AtomicLong connectionsActive = new AtomicLong();
  private final AtomicLong requestsActive = new AtomicLong();
  private final AtomicLong drainConnections = new AtomicLong();
  private final Counter accepted;
  /** Indexed by status / 100 (1..5); index 0 counts anything outside 100..599. */
  private final Counter[] requestsByClass = new Counter[6];

  /** By protocol; registered on first use (building a Counter per moved connection cost 10,000 registry lookups). */
  private final Map<String, Counter> migratedIn = new ConcurrentHashMap<>();
  private final Map<String, Counter> sentToSuccessor = new ConcurrentHashMap<>();

  private final MeterRegistry registry;
  private final String listener;

  ListenerMetrics(MeterRegistry registry, String listener) {
    this.registry = registry;
    this.listener = listener;
    Gauge.builder("baton.connections.active", connectionsActive, AtomicLong::get)
        .description("Client connections open on this listener")
        .tag("listener", listener)
        .register(registry);
    Gauge.builder("baton.requests.active", requestsActive, AtomicLong::get)
        .description("HTTP requests received and not yet fully answered")
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
    String[] classes = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int i = 0; i < classes.length; i++) {
      requestsByClass[i] =
          Counter.builder("baton.requests")
              .description("HTTP requests answered, by status class")
              .tag("listener", listener)
              .tag("code_class", classes[i])
              .register(registry);
    }
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

  public long connectionsActive() {
    return connectionsActive.get();
  }

  public void requestStarted() {
    requestsActive.incrementAndGet();
  }

  /** A request ended with {@code status} sent to the client (or 0 if it ended without a response). */
  public void requestFinished(int status) {
    requestsActive.decrementAndGet();
    int cls = status / 100;
    requestsByClass[cls >= 1 && cls <= 5 ? cls : 0].increment();
  }

  public long requestsActive() {
    return requestsActive.get();
  }

  public void setDrainConnections(long value) {
    drainConnections.set(value);
  }

  /** A live connection arrived from the predecessor; {@code protocol} as in {@code http1}, {@code tcp}. */
  public void connectionMigratedIn(String protocol) {
    migratedIn.computeIfAbsent(protocol, p ->
        migrationCounter("baton.connections.migrated", "Live connections received from the predecessor, by protocol", p))
        .increment();
  }

  /** A live connection went to the successor. */
  public void connectionSentToSuccessor(String protocol) {
    sentToSuccessor.computeIfAbsent(protocol, p ->
        migrationCounter("baton.connections.sent.to.successor", "Live connections handed to the successor, by protocol", p))
        .increment();
  }

  private Counter migrationCounter(String name, String description, String protocol) {
    // Registered on first use only: a process that never migrates exports neither series.
    return Counter.builder(name).description(description).tag("listener", listener).tag("protocol", protocol).register(registry);
  }
}
