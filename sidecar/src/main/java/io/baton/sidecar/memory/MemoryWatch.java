package io.baton.sidecar.memory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryNotificationInfo;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches heap, direct memory and resident memory against their limits and says so (a WARN line,
 * {@code baton_memory_pressure_total{area}}) when one is at or above 85%: an out-of-memory must
 * never be the first sign. Heap is judged right after each collection (the JVM's collection-usage
 * threshold notification: what survived, not garbage waiting for the next one); direct memory and
 * the resident set every {@link #PERIOD_SECONDS} seconds on a daemon thread.
 *
 * <p>Metrics: {@code baton_memory_limit_bytes{area}} and {@code baton_memory_used_bytes{area}} for
 * {@code heap} (after the last collection), {@code direct}, {@code container} (resident set against
 * the cgroup limit; absent without one).
 */
public final class MemoryWatch implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MemoryWatch.class);
  static final long PERIOD_SECONDS = 5;
  private static final Path STATUS = Path.of("/proc/self/status");

  private final MemoryLimits limits;
  private final PressureLog pressure = new PressureLog(System::nanoTime);
  private final Map<MemoryArea, Counter> counters = new EnumMap<>(MemoryArea.class);
  private final List<MemoryPoolMXBean> heapPools;
  private final ScheduledExecutorService ticker;
  private final NotificationListener afterCollection =
      (notification, handback) -> {
        if (MemoryNotificationInfo.MEMORY_COLLECTION_THRESHOLD_EXCEEDED.equals(
            notification.getType())) {
          check(MemoryArea.HEAP, heapAfterCollection(), limitOf(MemoryArea.HEAP));
        }
      };

  private MemoryWatch(MemoryLimits limits, MeterRegistry registry) {
    this.limits = limits;
    this.heapPools =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP)
            .toList();
    for (MemoryArea area : MemoryArea.values()) {
      if (limitOf(area) <= 0) {
        continue;
      }
      counters.put(
          area,
          Counter.builder("baton.memory.pressure")
              .description(
                  "Readings at or above 85% of a memory limit, by area (heap after a collection,"
                      + " direct, container)")
              .tag("area", area.label())
              .register(registry));
      Gauge.builder("baton.memory.limit", () -> limitOf(area))
          .description(
              "The limit of each memory area: -Xmx, -XX:MaxDirectMemorySize, the container's")
          .baseUnit("bytes")
          .tag("area", area.label())
          .register(registry);
      Gauge.builder("baton.memory.used", () -> usedOf(area))
          .description(
              "Memory in use per area: heap after the last collection, direct buffers, resident"
                  + " set")
          .baseUnit("bytes")
          .tag("area", area.label())
          .register(registry);
    }
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "baton-memory-watch");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts watching; logs the limits once, and a warning if the heap was left to the JVM's default.
   */
  public static MemoryWatch start(MemoryLimits limits, MeterRegistry registry) {
    MemoryWatch watch = new MemoryWatch(limits, registry);
    log.info("memory: limits {}", limits);
    if (!limits.heapSized()) {
      log.warn(
          "memory: the heap is not sized (max {}, the JVM's default share of the machine); start"
              + " Baton with bin/baton, which sizes it, or give -Xmx",
          MemoryLimits.mib(limits.heapMax()));
    }
    watch.armHeapThresholds();
    watch.ticker.scheduleWithFixedDelay(
        watch::checkPeriodically, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
    return watch;
  }

  private void armHeapThresholds() {
    for (MemoryPoolMXBean pool : heapPools) {
      long max = pool.getUsage().getMax();
      if (pool.isCollectionUsageThresholdSupported() && max > 0) {
        pool.setCollectionUsageThreshold((long) (max * PressureLog.THRESHOLD));
      }
    }
    ((NotificationEmitter) ManagementFactory.getMemoryMXBean())
        .addNotificationListener(afterCollection, null, null);
  }

  private void checkPeriodically() {
    try {
      check(MemoryArea.DIRECT, usedOf(MemoryArea.DIRECT), limitOf(MemoryArea.DIRECT));
      check(MemoryArea.CONTAINER, usedOf(MemoryArea.CONTAINER), limitOf(MemoryArea.CONTAINER));
    } catch (RuntimeException e) {
      log.warn("memory: cannot read memory use: {}", e.toString());
    }
  }

  private void check(MemoryArea area, long used, long limit) {
    PressureLog.Verdict verdict = pressure.judge(area, used, limit);
    if (verdict == PressureLog.Verdict.FINE) {
      return;
    }
    counters.get(area).increment();
    if (verdict == PressureLog.Verdict.COUNT_AND_LOG) {
      log.warn(
          "memory: {} at {}% of its limit ({} of {}): an out-of-memory is near; {} (said at most"
              + " once a minute)",
          area.label(),
          Math.round(100.0 * used / limit),
          MemoryLimits.mib(used),
          MemoryLimits.mib(limit),
          area.remedy());
    }
  }

  private long limitOf(MemoryArea area) {
    return switch (area) {
      case HEAP -> limits.heapMax();
      case DIRECT -> limits.directMax();
      case CONTAINER -> limits.container().orElse(0);
    };
  }

  private long usedOf(MemoryArea area) {
    return switch (area) {
      case HEAP -> heapAfterCollection();
      case DIRECT -> directBytes();
      case CONTAINER -> residentBytes();
    };
  }

  /** What the heap pools held right after their last collection. */
  private long heapAfterCollection() {
    long used = 0;
    for (MemoryPoolMXBean pool : heapPools) {
      if (pool.getCollectionUsage() != null) {
        used += pool.getCollectionUsage().getUsed();
      }
    }
    return used;
  }

  /**
   * Direct memory in use: Netty's own count where it allocates without the JDK's cleaner, else the
   * JDK's count of direct buffers (where Netty's buffers are then allocated).
   */
  static long directBytes() {
    long netty = PlatformDependent.usedDirectMemory();
    if (netty >= 0) {
      return netty;
    }
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(p -> p.getName().equals("direct"))
        .mapToLong(BufferPoolMXBean::getMemoryUsed)
        .sum();
  }

  /** VmRSS of this process; 0 if unreadable. */
  static long residentBytes() {
    try {
      for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through: unknown
    }
    return 0;
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    try {
      ((NotificationEmitter) ManagementFactory.getMemoryMXBean())
          .removeNotificationListener(afterCollection);
    } catch (ListenerNotFoundException e) {
      // never armed
    }
  }
}
