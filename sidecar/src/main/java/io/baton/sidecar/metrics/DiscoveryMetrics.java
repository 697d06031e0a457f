package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** What an operator watches of one cluster's discovery: updates, errors, the revision it is at. */
public final class DiscoveryMetrics {

  /** Why discovery went wrong, as the {@code reason} label. */
  public enum Error {
    /** etcd could not be reached, or a read or watch failed. */
    UNAVAILABLE("unavailable"),
    /** A key under the prefix is not a member (bad address, bad JSON): skipped. */
    BAD_MEMBER("bad_member"),
    /** The dump file could not be written or read. */
    DUMP("dump");

    private final String label;

    Error(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  private final String cluster;
  private final Counter updates;
  private final Map<Error, Counter> errors = new ConcurrentHashMap<>();
  private final AtomicLong revision = new AtomicLong();
  private final AtomicLong connected = new AtomicLong();

  DiscoveryMetrics(MeterRegistry registry, String cluster) {
    this.cluster = cluster;
    updates =
        Counter.builder("baton.discovery.updates")
            .description(
                "Changes of a cluster's members applied from etcd (a read of the prefix or a watch"
                    + " event batch)")
            .tag("cluster", cluster)
            .register(registry);
    for (Error e : Error.values()) {
      errors.put(
          e,
          Counter.builder("baton.discovery.errors")
              .description(
                  "Discovery failures: etcd unavailable, keys that are not members, dump file"
                      + " problems")
              .tag("cluster", cluster)
              .tag("reason", e.label())
              .register(registry));
    }
    Gauge.builder("baton.discovery.revision", revision, AtomicLong::get)
        .description(
            "The etcd revision a cluster's members are current at (0: not read from etcd yet)")
        .tag("cluster", cluster)
        .register(registry);
    Gauge.builder("baton.discovery.connected", connected, AtomicLong::get)
        .description(
            "1 while the cluster's etcd watch runs, 0 while etcd cannot be reached (the members are"
                + " kept)")
        .tag("cluster", cluster)
        .register(registry);
  }

  public void connected(boolean value) {
    connected.set(value ? 1 : 0);
  }

  public void updated(long atRevision) {
    updates.increment();
    revision.set(atRevision);
  }

  public void revision(long atRevision) {
    revision.set(atRevision);
  }

  public void error(Error reason) {
    errors.get(reason).increment();
  }

  public String cluster() {
    return cluster;
  }
}
