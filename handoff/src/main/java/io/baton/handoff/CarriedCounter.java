package io.baton.handoff;

import java.util.Map;

/**
 * One monotonic counter of a process, as it travels to the successor so that the successor's
 * counter continues from it (Prometheus' {@code rate()} sees no reset across a handoff).
 *
 * @param name the registry name (e.g. {@code baton.requests}), not the exported one
 */
public record CarriedCounter(
    String name, Map<String, String> tags, double value, String description) {
  public CarriedCounter {
    tags = Map.copyOf(tags);
    description = description == null ? "" : description;
  }
}
