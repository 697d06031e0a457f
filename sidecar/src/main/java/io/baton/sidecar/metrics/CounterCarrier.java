package io.baton.sidecar.metrics;

import io.baton.handoff.CarriedCounter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries counters across a handoff, so that a series continues instead of restarting at zero
 * (which Prometheus' {@code rate()} would read as a reset, and a dashboard as a dip).
 *
 * <p>The successor adds the predecessor's values when it takes over, and when the predecessor has
 * drained, what they grew by meanwhile. Its own counting goes on in between, so each series ends as
 * the predecessor's final value plus the successor's own.
 */
public final class CounterCarrier {

  private static final Logger log = LoggerFactory.getLogger(CounterCarrier.class);

  private final MeterRegistry registry;

  /** The predecessor's values as last reported, by series: later reports add what they grew by. */
  private final Map<String, Double> carried = new ConcurrentHashMap<>();

  public CounterCarrier(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Every counter of this process, to send to a successor. */
  public List<CarriedCounter> snapshot() {
    return registry.getMeters().stream()
        .filter(m -> m instanceof Counter)
        .map(m -> (Counter) m)
        .map(
            c ->
                new CarriedCounter(
                    c.getId().getName(),
                    c.getId().getTags().stream()
                        .collect(Collectors.toMap(Tag::getKey, Tag::getValue)),
                    c.count(),
                    c.getId().getDescription()))
        .toList();
  }

  /** At takeover: this process's counters start from the predecessor's. */
  public void continueFrom(List<CarriedCounter> predecessors) {
    for (CarriedCounter c : predecessors) {
      counter(c).increment(c.value());
      carried.merge(key(c), c.value(), Double::sum);
    }
    log.info("counters: continuing {} series from the predecessor", predecessors.size());
  }

  /**
   * When the predecessor stopped accepting, before this process's admin listener accepts: adds what
   * its counters grew by since the takeover. A scrape of this process is then never lower than one
   * the predecessor answered before.
   */
  public void predecessorStoppedAccepting(List<CarriedCounter> current) {
    log.info(
        "counters: {} series grew in the predecessor until it stopped accepting; added",
        addGrowth(current));
  }

  /**
   * When the predecessor has drained: adds what its counters grew by since they were last reported.
   */
  public void predecessorFinished(List<CarriedCounter> finals) {
    int grown = addGrowth(finals);
    carried.clear();
    log.info("counters: {} series grew in the predecessor during its drain; added", grown);
  }

  /** Adds what each counter grew by since it was last reported; returns how many grew. */
  private int addGrowth(List<CarriedCounter> current) {
    int grown = 0;
    for (CarriedCounter c : current) {
      String key = key(c);
      double growth = c.value() - carried.getOrDefault(key, 0.0);
      if (growth > 0) {
        counter(c).increment(growth);
        carried.put(key, c.value());
        grown++;
      }
    }
    return grown;
  }

  private Counter counter(CarriedCounter c) {
    Counter.Builder builder =
        Counter.builder(c.name()).description(c.description().isEmpty() ? null : c.description());
    ListenerMetrics.upgradeCarriedTags(c.name(), c.tags()).forEach(builder::tag);
    return builder.register(registry);
  }

  private static String key(CarriedCounter c) {
    return c.name() + new TreeMap<>(ListenerMetrics.upgradeCarriedTags(c.name(), c.tags()));
  }
}
