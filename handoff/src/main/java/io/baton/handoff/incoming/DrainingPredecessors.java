package io.baton.handoff.incoming;

import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.CounterValues;
import io.baton.proto.handoff.v1.DrainFinished;
import io.baton.proto.handoff.v1.Draining;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The chain of older generations that still drain behind this process, as the predecessor last
 * reported it (its own progress, and what it relays about those older than itself), and what the
 * application hears of it ({@link HandoffEvents}). Whether the predecessor counts as draining at
 * all is the {@link IncomingState}'s to say; this only remembers what was reported.
 */
final class DrainingPredecessors {

  /**
   * How long a process that handed over waits for its predecessor to finish when that one did not
   * say its drain deadline (Draining.deadline_unix_millis unset).
   */
  static final Duration UNKNOWN_DEADLINE_WAIT = Duration.ofMinutes(10);

  private final HandoffEvents events;
  private final IncomingReport report;
  private final BooleanSupplier predecessorDrains;
  private final Duration stepTimeout;
  private volatile ProcessIdentity predecessor = new ProcessIdentity(0, 0, "");
  private volatile long generation;
  private final AtomicReference<DrainProgress> predecessorProgress = new AtomicReference<>();

  /** What the predecessor relayed about the generations older than itself that still drain. */
  private final AtomicReference<List<PredecessorDrain>> olderDraining =
      new AtomicReference<>(List.of());

  /** When the predecessor's drain deadline passes (unix millis), 0 if it did not say. */
  private volatile long predecessorDeadlineMillis;

  private final CompletableFuture<Void> gone = new CompletableFuture<>();

  DrainingPredecessors(
      HandoffEvents events,
      IncomingReport report,
      BooleanSupplier predecessorDrains,
      Duration stepTimeout) {
    this.events = events;
    this.report = report;
    this.predecessorDrains = predecessorDrains;
    this.stepTimeout = stepTimeout;
  }

  /** Welcome said who the predecessor is, and with it this process's generation. */
  void welcomedBy(ProcessIdentity predecessor, long generation) {
    this.predecessor = predecessor;
    this.generation = generation;
  }

  /** Draining arrived: the predecessor stopped accepting, and said its deadline and its chain. */
  void stoppedAccepting(Draining draining) {
    predecessorDeadlineMillis = draining.getDeadlineUnixMillis();
    olderDraining.set(DrainReports.olderGenerations(draining.getPredecessorsList()));
    report.olderGenerationsDrain(olderDraining.get());
    events.predecessorStoppedAccepting(CounterValues.fromWire(draining.getCountersList()));
    events.predecessorsDraining(chain());
  }

  void progressed(io.baton.proto.handoff.v1.DrainProgress wire) {
    DrainProgress progress = DrainReports.progress(wire);
    olderDraining.set(DrainReports.olderGenerations(wire.getPredecessorsList()));
    predecessorProgress.set(progress);
    events.predecessorProgress(progress);
    events.predecessorsDraining(chain());
  }

  void drained(DrainFinished finished) {
    report.step(
        "predecessor_drained",
        "predecessor "
            + predecessor
            + " drained in "
            + finished.getDrainSeconds()
            + " s, "
            + finished.getConnectionsMigrated()
            + " connection(s) moved here, "
            + finished.getConnectionsClosedAtDeadline()
            + " closed at its deadline");
    events.predecessorDrained(
        CounterValues.fromWire(finished.getFinalCountersList()),
        finished.getConnectionsMigrated(),
        DrainReports.took(finished));
  }

  /**
   * Nothing drains behind this process any more; {@code wasDraining} (it left a draining state)
   * says whether the application heard otherwise and must be told.
   */
  void forget(boolean wasDraining) {
    olderDraining.set(List.of());
    if (wasDraining) {
      events.predecessorsDraining(List.of());
    }
  }

  /** Completes {@link #goneFuture()}: after everything else learned the predecessor is gone. */
  void markGone() {
    gone.complete(null);
  }

  /** Newest first: the predecessor, then those it relays; empty when it does not drain. */
  List<PredecessorDrain> chain() {
    if (!predecessorDrains.getAsBoolean()) {
      return List.of();
    }
    return chain(generation - 1, predecessor.pid(), predecessorProgress.get(), olderDraining.get());
  }

  /** A predecessor that has not reported progress yet counts as having nothing open. */
  static List<PredecessorDrain> chain(
      long predecessorGeneration,
      long predecessorPid,
      DrainProgress reported,
      List<PredecessorDrain> older) {
    List<PredecessorDrain> chain = new ArrayList<>();
    chain.add(
        new PredecessorDrain(
            predecessorGeneration,
            predecessorPid,
            reported == null ? new DrainProgress(0, 0) : reported));
    chain.addAll(older);
    return List.copyOf(chain);
  }

  Optional<DrainProgress> progress() {
    return predecessorDrains.getAsBoolean()
        ? Optional.ofNullable(predecessorProgress.get())
        : Optional.empty();
  }

  /** Completes when the predecessor finished draining or closed its connection. */
  CompletableFuture<Void> goneFuture() {
    return gone;
  }

  /**
   * True once the predecessor is gone (at once if it does not drain), false if it outlives its
   * deadline plus the step timeout.
   */
  CompletableFuture<Boolean> gone() {
    if (!predecessorDrains.getAsBoolean()) {
      return CompletableFuture.completedFuture(true);
    }
    Duration wait = goneWait(predecessorDeadlineMillis, System.currentTimeMillis(), stepTimeout);
    return gone.thenApply(v -> true)
        .completeOnTimeout(false, wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * How long to wait for a predecessor whose drain deadline is {@code deadlineMillis} (0: unknown):
   * the step timeout past the deadline covers its DrainFinished and exit.
   */
  static Duration goneWait(long deadlineMillis, long nowMillis, Duration stepTimeout) {
    return deadlineMillis == 0
        ? UNKNOWN_DEADLINE_WAIT
        : Duration.ofMillis(Math.max(0, deadlineMillis - nowMillis)).plus(stepTimeout);
  }
}
