package io.baton.sidecar.cli;

import io.baton.proto.admin.v1.DrainReply;
import io.baton.sidecar.adminrpc.AdminClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code baton drain}: the active process drains without a successor and exits. */
@Command(
    name = "drain",
    mixinStandardHelpOptions = true,
    description =
        "Make the active Baton stop accepting, finish what is in flight and exit (as SIGTERM"
            + " does).")
final class DrainCommand implements Callable<Integer> {

  @Mixin AdminCall call;

  @Override
  public Integer call() {
    DrainReply reply = call.ask("drain", AdminClient::drain).orElse(null);
    if (reply == null) {
      return ExitCodes.UNAVAILABLE;
    }
    if (call.json()) {
      System.out.println(AdminCall.json(reply));
    } else {
      System.out.println(
          "draining "
              + reply.getConnectionsOpen()
              + " connection(s); the process exits when they are done");
    }
    return ExitCodes.OK;
  }
}
