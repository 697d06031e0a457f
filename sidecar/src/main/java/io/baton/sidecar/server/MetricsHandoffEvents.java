package io.baton.sidecar.server;

import io.baton.handoff.CarriedCounter;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffResult;
import io.baton.sidecar.metrics.BatonMetrics;
import java.time.Duration;
import java.util.List;

/** Turns what the handoff library reports into metrics. */
final class MetricsHandoffEvents implements HandoffEvents {

  private final BatonMetrics metrics;

  MetricsHandoffEvents(BatonMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void phaseCompleted(String phase, Duration took) {
    metrics.handoffPhase(phase, took);
  }

  @Override
  public void handoffEnded(HandoffResult result, String detail) {
    metrics.handoffEnded(switch (result) {
      case SUCCESS -> BatonMetrics.HandoffResult.SUCCESS;
      case REFUSED -> BatonMetrics.HandoffResult.REFUSED;
      case FAILED -> BatonMetrics.HandoffResult.FAILED;
      case ROLLED_BACK -> BatonMetrics.HandoffResult.ROLLED_BACK;
    });
  }

  @Override
  public void predecessorProgress(DrainProgress progress) {
    metrics.setParentProgress(progress.connectionsActive(), progress.requestsActive());
  }

  @Override
  public void predecessorStoppedAccepting(List<CarriedCounter> counters) {
    metrics.carrier().predecessorStoppedAccepting(counters);
  }

  @Override
  public void predecessorDrained(List<CarriedCounter> finalCounters, long connectionsMigrated, Duration drainTook) {
    metrics.setParentProgress(0, 0);
    metrics.carrier().predecessorFinished(finalCounters);
  }

  @Override
  public void migrationEnded(long connectionsReceived, Duration took) {
    metrics.setMigrationTook(took);
  }
}
