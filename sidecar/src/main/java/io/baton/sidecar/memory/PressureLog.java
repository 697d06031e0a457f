package io.baton.sidecar.memory;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Decides, for each memory area, whether a reading is pressure (at or above {@link #THRESHOLD} of
 * its limit) and whether to say so now: every such reading counts, but the log gets one line per
 * area per {@link #INTERVAL} so that a process under pressure does not flood it. The clock is
 * injected so that the rate limit is tested without waiting.
 */
final class PressureLog {

  /** Above this share of a limit, an out-of-memory is near enough to tell the operator. */
  static final double THRESHOLD = 0.85;

  static final Duration INTERVAL = Duration.ofMinutes(1);

  /** What to do with one reading. */
  enum Verdict {
    /** Below the threshold. */
    FINE,
    /** Pressure: count it, but the log already said so within the interval. */
    COUNT,
    /** Pressure: count it and log it. */
    COUNT_AND_LOG
  }

  private final LongSupplier nanos;
  private final Map<MemoryArea, Long> lastLogged = new EnumMap<>(MemoryArea.class);

  PressureLog(LongSupplier nanos) {
    this.nanos = nanos;
  }

  synchronized Verdict judge(MemoryArea area, long used, long limit) {
    if (limit <= 0 || used < THRESHOLD * limit) {
      return Verdict.FINE;
    }
    long now = nanos.getAsLong();
    Long last = lastLogged.get(area);
    if (last != null && now - last < INTERVAL.toNanos()) {
      return Verdict.COUNT;
    }
    lastLogged.put(area, now);
    return Verdict.COUNT_AND_LOG;
  }
}
