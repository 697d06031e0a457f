package io.baton.handoff.wire;

import io.baton.handoff.CarriedCounter;
import io.baton.proto.handoff.v1.CounterValue;
import java.util.List;

/** {@link CarriedCounter}s to and from their wire form. */
public final class CounterValues {

  private CounterValues() {}

  public static List<CounterValue> toWire(List<CarriedCounter> counters) {
    return counters.stream()
        .map(
            c ->
                CounterValue.newBuilder()
                    .setName(c.name())
                    .putAllTags(c.tags())
                    .setValue(c.value())
                    .setDescription(c.description())
                    .build())
        .toList();
  }

  /** Drops values that are not finite and non-negative: a counter never goes below zero. */
  public static List<CarriedCounter> fromWire(List<CounterValue> values) {
    return values.stream()
        .filter(v -> !v.getName().isEmpty() && Double.isFinite(v.getValue()) && v.getValue() >= 0)
        .map(v -> new CarriedCounter(v.getName(), v.getTagsMap(), v.getValue(), v.getDescription()))
        .toList();
  }
}
