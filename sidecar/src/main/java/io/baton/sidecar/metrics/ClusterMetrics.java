package io.baton.sidecar.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/** The metrics of one upstream cluster. */
public final class ClusterMetrics {

  private final Map<UpstreamErrorReason, Counter> errors = new EnumMap<>(UpstreamErrorReason.class);

  ClusterMetrics(MeterRegistry registry, String cluster) {
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
}
