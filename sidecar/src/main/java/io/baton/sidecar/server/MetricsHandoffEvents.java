package io.baton.sidecar.server;

import io.baton.handoff.CarriedCounter;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffResult;
import io.baton.handoff.PredecessorDrain;
import io.baton.proto.admin.v1.DrainStatus;
import io.baton.sidecar.adminrpc.HandoffEventFeed;
import io.baton.sidecar.metrics.BatonMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/** Turns what the handoff library reports into metrics and events for {@code baton watch}. */
final class MetricsHandoffEvents implements HandoffEvents {

  private final BatonMetrics metrics;
  private final HandoffEventFeed feed;

  /**
   * The generations in the chain last published to {@code baton watch}: a line when it changes, not
   * every second.
   */
  private List<Long> lastChain = List.of();

  MetricsHandoffEvents(BatonMetrics metrics, HandoffEventFeed feed) {
    this.metrics = metrics;
    this.feed = feed;
  }

  @Override
  public void phaseCompleted(String phase, Duration took) {
    metrics.handoffPhase(phase, took);
    feed.publish(phase, "took " + took.toMillis() + " ms", null);
  }

  @Override
  public void handoffEnded(HandoffResult result, String detail) {
    feed.publish("handoff_" + result.name().toLowerCase(Locale.ROOT), detail, null);
    metrics.handoffEnded(
        switch (result) {
          case SUCCESS -> BatonMetrics.HandoffResult.SUCCESS;
          case REFUSED -> BatonMetrics.HandoffResult.REFUSED;
          case FAILED -> BatonMetrics.HandoffResult.FAILED;
          case ROLLED_BACK -> BatonMetrics.HandoffResult.ROLLED_BACK;
          case ABORTED -> BatonMetrics.HandoffResult.ABORTED;
        });
  }

  @Override
  public void predecessorProgress(DrainProgress progress) {
    metrics.setParentProgress(progress.connectionsActive(), progress.requestsActive());
    feed.publish(
        "predecessor_drain_progress",
        "",
        DrainStatus.newBuilder()
            .setConnectionsLeft(progress.connectionsActive())
            .setRequestsLeft(progress.requestsActive())
            .setConnectionsMigrated(progress.connectionsMigrated())
            .build());
  }

  @Override
  public void predecessorsDraining(List<PredecessorDrain> chain) {
    // The sums over the whole chain: one scrape of the active process shows everything older.
    long connections = chain.stream().mapToLong(p -> p.progress().connectionsActive()).sum();
    long requests = chain.stream().mapToLong(p -> p.progress().requestsActive()).sum();
    metrics.setPredecessorsDraining(chain.size(), connections, requests);
    List<Long> generations = chain.stream().map(PredecessorDrain::generation).toList();
    synchronized (this) {
      if (generations.equals(lastChain)) {
        return;
      }
      lastChain = generations;
    }
    feed.publish(
        "predecessors_draining",
        generations.isEmpty()
            ? "none"
            : "generations "
                + generations
                + ": "
                + connections
                + " connection(s), "
                + requests
                + " request(s) left",
        DrainStatus.newBuilder().setConnectionsLeft(connections).setRequestsLeft(requests).build());
  }

  @Override
  public void handedOn(String detail) {
    feed.publish("handed_on", detail, null);
  }

  @Override
  public void predecessorStoppedAccepting(List<CarriedCounter> counters) {
    metrics.carrier().predecessorStoppedAccepting(counters);
  }

  @Override
  public void predecessorDrained(
      List<CarriedCounter> finalCounters, long connectionsMigrated, Duration drainTook) {
    metrics.setParentProgress(0, 0);
    metrics.carrier().predecessorFinished(finalCounters);
    feed.publish(
        "predecessor_drained",
        "in " + drainTook.toMillis() + " ms, " + connectionsMigrated + " connection(s) moved here",
        null);
  }

  @Override
  public void migrationEnded(long connectionsReceived, Duration took) {
    metrics.setMigrationTook(took);
    feed.publish(
        "migration_received",
        connectionsReceived + " connection(s) in " + took.toMillis() + " ms",
        null);
  }
}
