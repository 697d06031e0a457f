package io.baton.sidecar.http1;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The response timeout of one HTTP/1.1 client connection: one timer per connection, re-armed
 * lazily. A timer scheduled and cancelled for every request costs more than the request's own
 * forwarding, so a request only moves the deadline; when the timer fires early, it re-arms for what
 * is left. Runs on the connection's event loop.
 */
final class ResponseTimer {

  /** What {@link #awaited} returns when no response is awaited: the timer then lapses. */
  static final long NOTHING_AWAITED = Long.MIN_VALUE;

  private final EventExecutor executor;
  private final LongSupplier awaited;
  private final Runnable expired;
  private ScheduledFuture<?> timer;

  /**
   * @param awaited the {@link System#nanoTime} deadline of the response awaited now, or {@link
   *     #NOTHING_AWAITED}
   * @param expired run when that deadline passed
   */
  ResponseTimer(EventExecutor executor, LongSupplier awaited, Runnable expired) {
    this.executor = executor;
    this.awaited = awaited;
    this.expired = expired;
  }

  /** A response is awaited from now for {@code delayNanos}; arms the timer unless it runs. */
  void arm(long delayNanos) {
    if (timer == null) {
      timer = executor.schedule(this::fired, delayNanos, TimeUnit.NANOSECONDS);
    }
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void fired() {
    timer = null;
    long deadline = awaited.getAsLong();
    if (deadline == NOTHING_AWAITED) {
      return; // the next request sent arms it again
    }
    long remaining = deadline - System.nanoTime();
    if (remaining > 0) {
      arm(remaining);
      return;
    }
    expired.run();
  }
}
