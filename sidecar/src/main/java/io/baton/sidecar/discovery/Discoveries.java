package io.baton.sidecar.discovery;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.baton.proto.discovery.v1.DiscoveredCluster;
import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.upstream.Cluster;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The discovery of every cluster that has one; how a generation starts them and hands them on. */
public final class Discoveries implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Discoveries.class);

  private final List<ClusterDiscovery> all;

  private Discoveries(List<ClusterDiscovery> all) {
    this.all = List.copyOf(all);
  }

  public static Discoveries of(
      List<ClusterConfig> configs,
      Map<String, Cluster> clusters,
      BatonMetrics metrics,
      Clock clock) {
    List<ClusterDiscovery> all = new ArrayList<>();
    for (ClusterConfig c : configs) {
      c.discovery()
          .ifPresent(
              d ->
                  all.add(
                      new ClusterDiscovery(
                          clusters.get(c.name()), d, metrics.discovery(c.name()), clock)));
    }
    return new Discoveries(all);
  }

  /**
   * Starts every discovery: from the predecessor's members where it carried this cluster's prefix,
   * otherwise by reading etcd, waiting at most each cluster's {@code etcd.timeout} (all clusters at
   * once), then falling back to the dump.
   *
   * @throws DiscoveryUnavailableException when a cluster with {@code strongDependency} has no
   *     members; the caller closes this object
   */
  public void start(List<Any> carriedState) throws DiscoveryUnavailableException {
    Map<String, DiscoveredCluster> carried = unpack(carriedState);
    List<ClusterDiscovery> cold = new ArrayList<>();
    long started = System.nanoTime();
    for (ClusterDiscovery d : all) {
      DiscoveredCluster c = carried.get(d.name());
      if (c != null && d.canContinueFrom(c)) {
        d.continueFrom(c);
      } else {
        if (c != null) {
          log.info(
              "cluster {}: the predecessor watched {}, this config names {}: reading afresh",
              d.name(),
              c.getPrefix(),
              d.config().etcd().prefix());
        }
        d.startCold();
        cold.add(d);
      }
    }
    for (ClusterDiscovery d : cold) {
      long left = d.config().etcd().timeout().toNanos() - (System.nanoTime() - started);
      try {
        d.firstRead().get(Math.max(0, left), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        d.etcdDidNotAnswer();
      } catch (ExecutionException e) {
        log.warn(
            "cluster {}: the first read of etcd failed: {}", d.name(), e.getCause().toString());
        d.etcdDidNotAnswer();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DiscoveryUnavailableException(
            "cluster " + d.name() + ": interrupted while waiting for etcd");
      }
    }
  }

  private static Map<String, DiscoveredCluster> unpack(List<Any> carriedState) {
    Map<String, DiscoveredCluster> byName = new HashMap<>();
    for (Any any : carriedState) {
      if (!any.is(DiscoveredCluster.class)) {
        continue; // another kind of state: not ours to read
      }
      try {
        DiscoveredCluster c = any.unpack(DiscoveredCluster.class);
        byName.put(c.getCluster(), c);
      } catch (InvalidProtocolBufferException e) {
        log.warn(
            "the predecessor's discovered members cannot be read ({}): reading etcd afresh",
            e.getMessage());
      }
    }
    return byName;
  }

  /** What the successor continues from: each cluster's members and watch revision. */
  public List<Any> carriedState() {
    return all.stream().map(d -> Any.pack(d.carriedState())).toList();
  }

  public Optional<ClusterDiscovery> of(String cluster) {
    return all.stream().filter(d -> d.name().equals(cluster)).findFirst();
  }

  @Override
  public void close() {
    all.forEach(ClusterDiscovery::close);
  }
}
