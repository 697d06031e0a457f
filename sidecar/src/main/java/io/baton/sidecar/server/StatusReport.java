package io.baton.sidecar.server;

import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.process.Handoff;
import io.baton.proto.admin.v1.DrainStatus;
import io.baton.proto.admin.v1.ListenerStatus;
import io.baton.proto.admin.v1.PredecessorDrainStatus;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import io.baton.sidecar.listener.ServingSocket;
import java.nio.file.Path;
import java.util.function.Supplier;

/** What {@code baton status} shows of this generation: its identity, listeners, drains. */
final class StatusReport {

  private final long generation;
  private final Lifecycle lifecycle;
  private final Handoff handoff;
  private final String buildVersion;
  private final ListenerSet listeners;
  private final Path runDir;
  private final Path configFile;
  private final Supplier<DrainStatus> drain;

  /**
   * @param drain this generation's drain so far, asked only while it drains
   */
  StatusReport(
      long generation,
      Lifecycle lifecycle,
      Handoff handoff,
      String buildVersion,
      ListenerSet listeners,
      Path runDir,
      Path configFile,
      Supplier<DrainStatus> drain) {
    this.generation = generation;
    this.lifecycle = lifecycle;
    this.handoff = handoff;
    this.buildVersion = buildVersion;
    this.listeners = listeners;
    this.runDir = runDir;
    this.configFile = configFile;
    this.drain = drain;
  }

  StatusReply build() {
    StatusReply.Builder reply =
        StatusReply.newBuilder()
            .setGeneration(generation)
            .setPhase(lifecycle.phase().name())
            .setPid(ProcessHandle.current().pid())
            .setInstanceId(handoff.instanceId())
            .setBuildVersion(buildVersion)
            .setHandoffProtocolVersion(Handoff.protocolVersion())
            .setHandoffProtocolRevision(Handoff.protocolRevision())
            .setConnectionsActive(listeners.openConnections())
            .setRequestsActive(listeners.activeRequests())
            .setRunDir(runDir.toString())
            .setConfigFile(configFile.toAbsolutePath().toString());
    for (ServingSocket s : listeners.data()) {
      reply.addListeners(
          ListenerStatus.newBuilder()
              .setName(s.name())
              .setProtocol(s.protocol())
              .setConfiguredAddress(s.configuredAddress().toString())
              .setBoundAddress(ServingLine.format(s.boundAddress()))
              .setConnectionsActive(s.openConnections()));
    }
    if (lifecycle.phase() == Phase.DRAINING) {
      reply.setDrain(drain.get());
    }
    handoff
        .predecessorProgress()
        .ifPresent(
            p ->
                reply.setPredecessorDrain(
                    DrainStatus.newBuilder()
                        .setConnectionsLeft(p.connectionsActive())
                        .setRequestsLeft(p.requestsActive())
                        .setConnectionsMigrated(p.connectionsMigrated())));
    for (PredecessorDrain p : handoff.drainingPredecessors()) {
      reply.addDrainingPredecessors(
          PredecessorDrainStatus.newBuilder()
              .setGeneration(p.generation())
              .setPid(p.pid())
              .setDrain(
                  DrainStatus.newBuilder()
                      .setConnectionsLeft(p.progress().connectionsActive())
                      .setRequestsLeft(p.progress().requestsActive())
                      .setConnectionsMigrated(p.progress().connectionsMigrated())));
    }
    return reply.build();
  }
}
