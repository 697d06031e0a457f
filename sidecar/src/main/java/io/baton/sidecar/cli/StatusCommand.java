package io.baton.sidecar.cli;

import io.baton.proto.admin.v1.DrainStatus;
import io.baton.proto.admin.v1.ListenerStatus;
import io.baton.proto.admin.v1.PredecessorDrainStatus;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.sidecar.adminrpc.AdminClient;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code baton status}: what the active process is and does. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description =
        "Show the active Baton of a run directory: generation, phase, listeners, connections, drain"
            + " progress.")
final class StatusCommand implements Callable<Integer> {

  @Mixin AdminCall call;

  @Override
  public Integer call() {
    StatusReply status = call.ask("status", AdminClient::status).orElse(null);
    if (status == null) {
      return ExitCodes.UNAVAILABLE;
    }
    PrintStream out = System.out;
    if (call.json()) {
      out.println(AdminCall.json(status));
      return ExitCodes.OK;
    }
    out.printf(
        "generation %d  %s  pid %d%s  build %s  handoff protocol %d.%d%n",
        status.getGeneration(),
        status.getPhase(),
        status.getPid(),
        status.getInstanceId().isEmpty() ? "" : "  instance " + status.getInstanceId(),
        status.getBuildVersion(),
        status.getHandoffProtocolVersion(),
        Math.max(1, status.getHandoffProtocolRevision()));
    out.printf("run dir %s  config %s%n", status.getRunDir(), status.getConfigFile());
    out.printf(
        "connections %d  requests in flight %d%n",
        status.getConnectionsActive(), status.getRequestsActive());
    for (ListenerStatus l : status.getListenersList()) {
      out.printf(
          "listener %s  %s  %s (configured %s)  connections %d%n",
          l.getName(),
          l.getProtocol(),
          l.getBoundAddress(),
          l.getConfiguredAddress(),
          l.getConnectionsActive());
    }
    if (status.hasDrain()) {
      out.println("draining: " + describe(status.getDrain()));
    }
    if (status.getDrainingPredecessorsCount() > 0) {
      List<PredecessorDrainStatus> chain = status.getDrainingPredecessorsList();
      out.printf(
          "predecessors draining: %d, connections left %d, requests left %d%n",
          chain.size(),
          chain.stream().mapToLong(p -> p.getDrain().getConnectionsLeft()).sum(),
          chain.stream().mapToLong(p -> p.getDrain().getRequestsLeft()).sum());
      for (PredecessorDrainStatus p : chain) {
        out.println(
            "generation "
                + p.getGeneration()
                + " (pid "
                + p.getPid()
                + ") draining: "
                + describe(p.getDrain()));
      }
    } else if (status.hasPredecessorDrain()) {
      // An older process, which does not report the chain.
      out.println(
          "generation "
              + (status.getGeneration() - 1)
              + " draining: "
              + describe(status.getPredecessorDrain()));
    }
    return ExitCodes.OK;
  }

  static String describe(DrainStatus d) {
    return d.getConnectionsLeft()
        + " connection(s) and "
        + d.getRequestsLeft()
        + " request(s) left, "
        + d.getConnectionsMigrated()
        + " moved to the successor";
  }
}
