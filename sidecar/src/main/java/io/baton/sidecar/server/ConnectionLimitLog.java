package io.baton.sidecar.server;

import io.baton.sidecar.config.ListenerConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says when a listener holds its connection limit, at most once per interval per listener: under a
 * flood the limit is reached and lifted thousands of times a second, and the counter {@code
 * baton_listener_connection_limit_reached_total} has the rate; the log says that it happens.
 */
final class ConnectionLimitLog {

  static final Duration INTERVAL = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(ConnectionLimitLog.class);

  private final Map<String, Integer> limits;
  private final LongSupplier nanoClock;
  private final Consumer<String> out;
  private final Map<String, AtomicLong> lastLogged = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> unsaid = new ConcurrentHashMap<>();

  ConnectionLimitLog(List<ListenerConfig> listeners, LongSupplier nanoClock) {
    this(listeners, nanoClock, log::warn);
  }

  ConnectionLimitLog(List<ListenerConfig> listeners, LongSupplier nanoClock, Consumer<String> out) {
    this.limits =
        listeners.stream()
            .collect(Collectors.toMap(ListenerConfig::name, ListenerConfig::maxConnections));
    this.nanoClock = nanoClock;
    this.out = out;
  }

  void reached(String listener, int open) {
    long now = nanoClock.getAsLong();
    AtomicLong last = lastLogged.computeIfAbsent(listener, l -> new AtomicLong(now - interval()));
    long previous = last.get();
    AtomicLong skipped = unsaid.computeIfAbsent(listener, l -> new AtomicLong());
    if (now - previous < interval() || !last.compareAndSet(previous, now)) {
      skipped.incrementAndGet();
      return;
    }
    long since = skipped.getAndSet(0);
    out.accept(
        "listener "
            + listener
            + ": "
            + open
            + " connections open, its limit (maxConnections "
            + limits.getOrDefault(listener, 0)
            + "): not accepting until one closes; new clients wait in the kernel's queue"
            + (since > 0 ? " (reached " + since + " more times since the last report)" : ""));
  }

  private static long interval() {
    return INTERVAL.toNanos();
  }
}
