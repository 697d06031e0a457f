package io.baton.sidecar.server;

import io.baton.handoff.CarriedCounter;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffResult;
import io.baton.handoff.PredecessorDrain;
import java.time.Duration;
import java.util.List;

/** Tells each of several listeners (metrics, systemd) every handoff event, in the order given. */
final class FanOutHandoffEvents implements HandoffEvents {

  private final List<HandoffEvents> targets;

  FanOutHandoffEvents(HandoffEvents... targets) {
    this.targets = List.of(targets);
  }

  @Override
  public void phaseCompleted(String phase, Duration took) {
    targets.forEach(t -> t.phaseCompleted(phase, took));
  }

  @Override
  public void handoffEnded(HandoffResult result, String detail) {
    targets.forEach(t -> t.handoffEnded(result, detail));
  }

  @Override
  public void predecessorsDraining(List<PredecessorDrain> chain) {
    targets.forEach(t -> t.predecessorsDraining(chain));
  }

  @Override
  public void handedOn(String detail) {
    targets.forEach(t -> t.handedOn(detail));
  }

  @Override
  public void predecessorStoppedAccepting(List<CarriedCounter> counters) {
    targets.forEach(t -> t.predecessorStoppedAccepting(counters));
  }

  @Override
  public void predecessorProgress(DrainProgress progress) {
    targets.forEach(t -> t.predecessorProgress(progress));
  }

  @Override
  public void predecessorDrained(
      List<CarriedCounter> finalCounters, long connectionsMigrated, Duration drainTook) {
    targets.forEach(t -> t.predecessorDrained(finalCounters, connectionsMigrated, drainTook));
  }

  @Override
  public void migrationEnded(long connectionsReceived, Duration took) {
    targets.forEach(t -> t.migrationEnded(connectionsReceived, took));
  }
}
