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
 * Says why a listener stopped accepting (its connection limit, or the process's file descriptors),
 * at most once per interval per listener and reason: under a flood that happens thousands of times
 * a second, and the counters have the rate; the log says that it happens and why.
 */
final class AcceptPauseLog {

  static final Duration INTERVAL = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(AcceptPauseLog.class);

  private final Map<String, Integer> limits;
  private final LongSupplier nanoClock;
  private final Consumer<String> out;
  private final Map<String, AtomicLong> lastSaid = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> unsaid = new ConcurrentHashMap<>();

  AcceptPauseLog(List<ListenerConfig> listeners, LongSupplier nanoClock) {
    this(listeners, nanoClock, log::warn);
  }

  AcceptPauseLog(List<ListenerConfig> listeners, LongSupplier nanoClock, Consumer<String> out) {
    this.limits =
        listeners.stream()
            .collect(Collectors.toMap(ListenerConfig::name, ListenerConfig::maxConnections));
    this.nanoClock = nanoClock;
    this.out = out;
  }

  void limitReached(String listener, int open) {
    say(
        listener + "/limit",
        "listener "
            + listener
            + ": "
            + open
            + " connections open, its limit (maxConnections "
            + limits.getOrDefault(listener, 0)
            + "): not accepting until one closes; new clients wait in the kernel's queue");
  }

  void shortOfFds(String listener, int open, String budget, Throwable cause) {
    say(
        listener + "/fds",
        "listener "
            + listener
            + ": "
            + (cause == null ? "" : "accept failed (" + cause.getMessage() + "); ")
            + budget
            + ", "
            + open
            + " connections open here: not accepting until descriptors are freed; new clients"
            + " wait in the kernel's queue");
  }

  private void say(String key, String message) {
    long now = nanoClock.getAsLong();
    AtomicLong last = lastSaid.computeIfAbsent(key, k -> new AtomicLong(now - interval()));
    AtomicLong skipped = unsaid.computeIfAbsent(key, k -> new AtomicLong());
    long previous = last.get();
    if (now - previous < interval() || !last.compareAndSet(previous, now)) {
      skipped.incrementAndGet();
      return;
    }
    long since = skipped.getAndSet(0);
    out.accept(message + (since > 0 ? " (" + since + " more times since the last report)" : ""));
  }

  private static long interval() {
    return INTERVAL.toNanos();
  }
}
