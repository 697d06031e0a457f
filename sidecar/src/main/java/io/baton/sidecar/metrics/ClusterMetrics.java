package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;

/** The metrics of one upstream cluster. */
public final class ClusterMetrics {

  private final Map<UpstreamErrorReason, Counter> errors = new EnumMap<>(UpstreamErrorReason.class);
  private final MeterRegistry registry;
  private final String cluster;
  private final Set<String> memberStates = ConcurrentHashMap.newKeySet();

  /**
   * What {@code baton_cluster_members} reads at each scrape; replaced by the cluster that owns
   * these metrics.
   */
  private volatile ToIntFunction<String> membersInState = state -> 0;

  ClusterMetrics(MeterRegistry registry, String cluster) {
    this.registry = registry;
    this.cluster = cluster;
    for (UpstreamErrorReason reason : UpstreamErrorReason.values()) {
      errors.put(
          reason,
          Counter.builder("baton.upstream.errors")
              .description("Failures talking to an upstream, by reason")
              .tag("cluster", cluster)
              .tag("reason", reason.label())
              .register(registry));
    }
  }

  public void upstreamError(UpstreamErrorReason reason) {
    errors.get(reason).increment();
  }

  /**
   * Exports {@code baton_cluster_members{cluster,state}} for each of {@code states}, read through
   * {@code count} at each scrape. A later call (a cluster built again under the same name) takes
   * over: the gauges read through this object, never through a cluster they would keep alive.
   */
  public void members(List<String> states, ToIntFunction<String> count) {
    membersInState = count;
    for (String state : states) {
      if (memberStates.add(state)) {
        Gauge.builder("baton.cluster.members", this, m -> m.membersInState.applyAsInt(state))
            .description(
                "Members of the cluster by state: healthy, failed (skipped after max_fails"
                    + " failures), down")
            .tag("cluster", cluster)
            .tag("state", state)
            .register(registry);
      }
    }
  }
}
