package io.baton.handoff;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Events from handoff threads, delivered to the test thread through queues. */
final class RecordingEvents implements HandoffEvents {
  record Ended(HandoffResult result, String detail) {}

  final BlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
  final BlockingQueue<DrainProgress> progress = new LinkedBlockingQueue<>();
  final List<String> phases = new CopyOnWriteArrayList<>();
  final BlockingQueue<List<CarriedCounter>> finalCounters = new LinkedBlockingQueue<>();
  final BlockingQueue<List<CarriedCounter>> stoppedAcceptingCounters = new LinkedBlockingQueue<>();
  final BlockingQueue<Long> migrationsEnded = new LinkedBlockingQueue<>();
  final BlockingQueue<String> handedOn = new LinkedBlockingQueue<>();

  /** The last chain of draining predecessors reported. */
  volatile List<PredecessorDrain> chain = List.of();

  /**
   * Runs on the handoff thread when the predecessor's final counters arrive, before anything else
   * happens.
   */
  volatile Consumer<List<CarriedCounter>> whenPredecessorDrained = c -> {};

  @Override
  public void predecessorDrained(
      List<CarriedCounter> counters, long connectionsMigrated, Duration drainTook) {
    whenPredecessorDrained.accept(counters);
    finalCounters.add(counters);
  }

  @Override
  public void predecessorsDraining(List<PredecessorDrain> reported) {
    chain = reported;
  }

  @Override
  public void handedOn(String detail) {
    handedOn.add(detail);
  }

  @Override
  public void predecessorStoppedAccepting(List<CarriedCounter> counters) {
    stoppedAcceptingCounters.add(counters);
  }

  @Override
  public void migrationEnded(long connectionsReceived, Duration took) {
    migrationsEnded.add(connectionsReceived);
  }

  @Override
  public void phaseCompleted(String phase, Duration took) {
    phases.add(phase);
  }

  @Override
  public void handoffEnded(HandoffResult result, String detail) {
    ended.add(new Ended(result, detail));
  }

  @Override
  public void predecessorProgress(DrainProgress p) {
    progress.add(p);
  }

  /** The next attempt that ended; fails the test if none ends within 10 s. */
  Ended nextEnded() throws InterruptedException {
    Ended e = ended.poll(10, TimeUnit.SECONDS);
    if (e == null) {
      throw new AssertionError("no handoffEnded event within 10 s");
    }
    return e;
  }
}
