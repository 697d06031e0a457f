package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every metric Baton exports, by its Prometheus name. Names follow the Prometheus rules: base
 * units, {@code _total} for counters; the status code is a label, never part of a name.
 *
 * <p>Hot-path users take a {@link ListenerMetrics} or {@link ClusterMetrics} once and keep it, so a
 * request costs no map lookup.
 */
public final class BatonMetrics {

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, ListenerMetrics> listeners = new ConcurrentHashMap<>();
  private final Map<String, ClusterMetrics> clusters = new ConcurrentHashMap<>();
  private final Map<String, DiscoveryMetrics> discoveries = new ConcurrentHashMap<>();
  private final Map<String, TlsMetrics> tls = new ConcurrentHashMap<>();
  private final AtomicLong generation = new AtomicLong();
  private final AtomicLong listenersInherited = new AtomicLong();
  private final AtomicLong draining = new AtomicLong();
  private final AtomicLong ready = new AtomicLong();
  private final AtomicLong parentConnections = new AtomicLong();
  private final AtomicLong parentRequests = new AtomicLong();
  private final AtomicLong predecessorsDraining = new AtomicLong();
  private final AtomicLong migrationNanos = new AtomicLong();
  private final CounterCarrier carrier = new CounterCarrier(registry);

  public BatonMetrics() {
    Gauge.builder("baton.generation", generation, AtomicLong::get)
        .description("Generation of this process: 1 after a cold start, +1 at each handoff")
        .register(registry);
    Gauge.builder("baton.listeners.inherited", listenersInherited, AtomicLong::get)
        .description("Listening sockets this process received from its predecessor")
        .register(registry);
    Gauge.builder("baton.draining", draining, AtomicLong::get)
        .description("1 while this process drains after handing off, else 0")
        .register(registry);
    Gauge.builder("baton.ready", ready, AtomicLong::get)
        .description("1 while this process accepts connections, else 0")
        .register(registry);
    Gauge.builder("baton.parent.connections.active", parentConnections, AtomicLong::get)
        .description(
            "Connections the older generations still have open while they drain (the previous one"
                + " and, after chained handoffs, those before it)")
        .register(registry);
    Gauge.builder("baton.parent.requests.active", parentRequests, AtomicLong::get)
        .description("Requests the older generations still have in flight while they drain")
        .register(registry);
    Gauge.builder("baton.predecessors.draining", predecessorsDraining, AtomicLong::get)
        .description(
            "Older generations that still drain: 0 or 1, more after a handoff during a drain")
        .register(registry);
    Gauge.builder("baton.migration", migrationNanos, n -> n.get() / 1e9)
        .description(
            "How long the last migration of live connections from the predecessor took, first to"
                + " last")
        .baseUnit("seconds")
        .register(registry);
    for (HandoffResult result : HandoffResult.values()) {
      handoffCounter(result);
    }
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition of every metric. */
  public String scrape() {
    return registry.scrape();
  }

  public void setGeneration(long value) {
    generation.set(value);
  }

  public void setListenersInherited(int count) {
    listenersInherited.set(count);
  }

  public void setDraining(boolean value) {
    draining.set(value ? 1 : 0);
  }

  public void setReady(boolean value) {
    ready.set(value ? 1 : 0);
  }

  /** The predecessor's last reported drain progress; zero once it has exited. */
  public void setParentProgress(long connections, long requests) {
    parentConnections.set(connections);
    parentRequests.set(requests);
  }

  /** How many older generations still drain, and what they have open in all. */
  public void setPredecessorsDraining(int generations, long connections, long requests) {
    predecessorsDraining.set(generations);
    setParentProgress(connections, requests);
  }

  public void setMigrationTook(Duration took) {
    migrationNanos.set(took.toNanos());
  }

  /** Counters across handoffs. */
  public CounterCarrier carrier() {
    return carrier;
  }

  public ListenerMetrics listener(String name) {
    return listeners.computeIfAbsent(name, n -> new ListenerMetrics(registry, n));
  }

  /** The TLS metrics of a listener that terminates TLS. */
  public TlsMetrics tls(String listener) {
    return tls.computeIfAbsent(listener, n -> new TlsMetrics(registry, n));
  }

  public ClusterMetrics cluster(String name) {
    return clusters.computeIfAbsent(name, n -> new ClusterMetrics(registry, n));
  }

  /** The discovery metrics of a cluster whose members come from etcd. */
  public DiscoveryMetrics discovery(String cluster) {
    return discoveries.computeIfAbsent(cluster, n -> new DiscoveryMetrics(registry, n));
  }

  public void handoffEnded(HandoffResult result) {
    handoffCounter(result).increment();
  }

  /** A request for the next generation (a signal, the admin API) and what became of it. */
  public void upgradeRequested(String trigger, String result) {
    Counter.builder("baton.upgrades")
        .description(
            "Requests to start the next generation from this process, by trigger and result")
        .tag("trigger", trigger)
        .tag("result", result)
        .register(registry)
        .increment();
  }

  public void handoffPhase(String phase, Duration took) {
    Timer.builder("baton.handoff.phase")
        .description("Duration of each step of a handoff, on the side that performed it")
        .tag("phase", phase)
        .register(registry)
        .record(took);
  }

  public void drainFinished(Duration took) {
    Timer.builder("baton.drain")
        .description("Time from drain start to the last connection closed (or the deadline)")
        .register(registry)
        .record(took);
  }

  private Counter handoffCounter(HandoffResult result) {
    return Counter.builder("baton.handoffs")
        .description("Handoffs by result, counted by the outgoing process")
        .tag("result", result.label())
        .register(registry);
  }

  /** The labels of {@code baton_handoffs_total}. */
  public enum HandoffResult {
    SUCCESS("success"),
    REFUSED("refused"),
    FAILED("failed"),
    ROLLED_BACK("rolled_back"),
    ABORTED("aborted");

    private final String label;

    HandoffResult(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }
}
