package io.baton.handoff.outgoing;

import io.baton.handoff.CarriedCounter;
import io.baton.handoff.DrainOutcome;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.CounterValues;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Abort;
import io.baton.proto.handoff.v1.DrainFinished;
import io.baton.proto.handoff.v1.Draining;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Welcome;
import java.util.List;

/** The frames the outgoing side sends on reconfig.sock, built from the library's own types. */
final class OutgoingMessages {

  private OutgoingMessages() {}

  static Envelope welcome(ProcessIdentity self, String buildVersion, long generation) {
    return ProtocolVersion.envelope()
        .setWelcome(
            Welcome.newBuilder()
                .setPid((int) self.pid())
                .setPidNamespace(self.pidNamespace())
                .setInstanceId(self.instanceId())
                .setBuildVersion(buildVersion)
                .setGeneration(generation)
                .setProtocolRevision(ProtocolVersion.REVISION))
        .build();
  }

  static Envelope refusal(Refusal refusal) {
    return ProtocolVersion.envelope()
        .setRefusal(
            io.baton.proto.handoff.v1.Refusal.newBuilder()
                .setReason(refusal.reason())
                .setDetail(refusal.detail()))
        .build();
  }

  static Envelope abort(String reason) {
    return ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason(reason)).build();
  }

  static Envelope draining(
      List<CarriedCounter> counters, long deadlineUnixMillis, List<PredecessorDrain> chain) {
    return ProtocolVersion.envelope()
        .setDraining(
            Draining.newBuilder()
                .addAllCounters(CounterValues.toWire(counters))
                .setDeadlineUnixMillis(deadlineUnixMillis)
                .addAllPredecessors(toWire(chain)))
        .build();
  }

  static Envelope progress(
      DrainProgress progress, long connectionsSent, List<PredecessorDrain> chain) {
    return ProtocolVersion.envelope()
        .setDrainProgress(
            io.baton.proto.handoff.v1.DrainProgress.newBuilder()
                .setConnectionsActive(progress.connectionsActive())
                .setRequestsActive(progress.requestsActive())
                .setConnectionsMigrated(connectionsSent)
                .addAllPredecessors(toWire(chain)))
        .build();
  }

  static Envelope drainFinished(
      DrainOutcome outcome, List<CarriedCounter> finalCounters, long connectionsSent) {
    return ProtocolVersion.envelope()
        .setDrainFinished(
            DrainFinished.newBuilder()
                .setConnectionsClosedAtDeadline(outcome.closedAtDeadline())
                .setDrainSeconds(outcome.took().toNanos() / 1e9)
                .addAllFinalCounters(CounterValues.toWire(finalCounters))
                .setConnectionsMigrated(connectionsSent))
        .build();
  }

  private static List<io.baton.proto.handoff.v1.PredecessorDrain> toWire(
      List<PredecessorDrain> chain) {
    return chain.stream()
        .map(
            p ->
                io.baton.proto.handoff.v1.PredecessorDrain.newBuilder()
                    .setGeneration(p.generation())
                    .setPid((int) p.pid())
                    .setConnectionsActive(p.progress().connectionsActive())
                    .setRequestsActive(p.progress().requestsActive())
                    .setConnectionsMigrated(p.progress().connectionsMigrated())
                    .build())
        .toList();
  }
}
