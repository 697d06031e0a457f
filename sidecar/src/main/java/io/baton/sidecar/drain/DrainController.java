package io.baton.sidecar.drain;

import io.baton.handoff.Drain;
import io.baton.handoff.DrainOutcome;
import io.baton.handoff.DrainProgress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One drain of this process: announce it, then finish as soon as the last connection closes, or
 * close what is left at the deadline. No quiet period: the successor already accepts, so every
 * connection that can still arrive here is one the kernel queued before we stopped accepting, and
 * {@link io.baton.sidecar.listener.ServingSocket#stopAccepting()} returns only after the last such
 * accept.
 *
 * <p>Time comes from an injected nanosecond clock and scheduler, so the deadline logic is tested
 * without waiting.
 */
public final class DrainController implements Drain {

  private static final Logger log = LoggerFactory.getLogger(DrainController.class);

  /** The drain's own states; a cancelled drain is one that a rollback ended. */
  private enum State {
    NOT_STARTED,
    DRAINING,
    FINISHED,
    CANCELLED
  }

  private final DrainTarget target;
  private final Duration timeout;
  private final LongSupplier nanos;
  private final DeadlineScheduler scheduler;
  private final CompletableFuture<DrainOutcome> completion = new CompletableFuture<>();
  private final List<Consumer<DrainOutcome>> finishing = new ArrayList<>();
  private State state = State.NOT_STARTED;
  private long startNanos;
  private long deadlineUnixMillis;
  private DeadlineScheduler.Cancellable deadline;

  /** The deadline passed and its closes are under way; guarded by {@code this}. */
  private boolean closingAtDeadline;

  public DrainController(
      DrainTarget target, Duration timeout, LongSupplier nanos, DeadlineScheduler scheduler) {
    this.target = target;
    this.timeout = timeout;
    this.nanos = nanos;
    this.scheduler = scheduler;
  }

  /** Announces the drain to every connection and arms the deadline. */
  public synchronized DrainController begin() {
    if (state != State.NOT_STARTED) {
      throw new IllegalStateException("drain: " + state + " (expected NOT_STARTED)");
    }
    state = State.DRAINING;
    startNanos = nanos.getAsLong();
    deadlineUnixMillis = System.currentTimeMillis() + timeout.toMillis();
    log.info(
        "drain started: {} connections open, {} requests in flight, deadline in {}",
        target.openConnections(),
        target.activeRequests(),
        timeout);
    target.announceDrain();
    deadline = scheduler.schedule(this::deadlinePassed, timeout);
    connectionClosed();
    return this;
  }

  /** Call whenever a client connection closes; finishes the drain when none is left. */
  public synchronized void connectionClosed() {
    if (state == State.DRAINING && !closingAtDeadline && target.openConnections() == 0) {
      finish(0);
    }
  }

  /** A rollback: this process serves again; the drain never completes. */
  public synchronized void cancel() {
    if (state == State.DRAINING) {
      state = State.CANCELLED;
      deadline.cancel();
      log.info("drain cancelled after {} ms", elapsed().toMillis());
    }
  }

  /**
   * Closes what is left, without holding this object's lock: closing waits for connections on every
   * event loop, and each of them, as it closes, calls {@link #connectionClosed} or {@link
   * #isDraining}, which take the lock. Holding it here deadlocked two event loops (one waiting for
   * a close, the other for the lock), and the drain never finished.
   */
  private void deadlinePassed() {
    int open;
    synchronized (this) {
      if (state != State.DRAINING) {
        return;
      }
      open = target.openConnections();
      closingAtDeadline =
          true; // the closes below must not finish the drain as if it ended by itself
      log.warn("drain deadline of {} passed with {} connections open: closing them", timeout, open);
    }
    target.closeRemaining();
    synchronized (this) {
      if (state == State.DRAINING) { // not cancelled meanwhile
        finish(open);
      }
    }
  }

  private void finish(int closedAtDeadline) {
    state = State.FINISHED;
    if (deadline != null) {
      deadline.cancel();
    }
    Duration took = elapsed();
    log.info(
        "drain finished in {} ms ({} closed at the deadline)", took.toMillis(), closedAtDeadline);
    DrainOutcome outcome = new DrainOutcome(closedAtDeadline, took);
    for (Consumer<DrainOutcome> step : finishing) {
      try {
        step.accept(outcome);
      } catch (RuntimeException e) {
        log.error("drain: a finishing step failed: {}", e.toString(), e);
      }
    }
    completion.complete(outcome);
  }

  /**
   * Runs {@code step} when the drain finishes, before {@link #completion()} completes: what must be
   * reported before anyone who waits for the completion (the handoff, which then lets the process
   * stop) goes on. Call before {@link #begin()}.
   */
  public synchronized void whenFinishing(Consumer<DrainOutcome> step) {
    if (state != State.NOT_STARTED) {
      throw new IllegalStateException(
          "drain: " + state + " (expected NOT_STARTED: finishing steps are set before it begins)");
    }
    finishing.add(step);
  }

  private Duration elapsed() {
    return Duration.ofNanos(nanos.getAsLong() - startNanos);
  }

  public synchronized boolean isDraining() {
    return state == State.DRAINING;
  }

  /**
   * Wall-clock time of the deadline, for the successor (it waits at most that long for our final
   * counters).
   */
  @Override
  public synchronized long deadlineUnixMillis() {
    return deadlineUnixMillis;
  }

  @Override
  public DrainProgress progress() {
    return new DrainProgress(target.openConnections(), target.activeRequests());
  }

  @Override
  public CompletionStage<DrainOutcome> completion() {
    return completion;
  }
}
