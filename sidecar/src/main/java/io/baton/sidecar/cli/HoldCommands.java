package io.baton.sidecar.cli;

import io.baton.proto.admin.v1.HoldReply;
import io.baton.sidecar.adminrpc.AdminClient;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code baton commit} and {@code baton abort}: how a held handoff ends. */
final class HoldCommands {

  private HoldCommands() {}

  @Command(
      name = "commit",
      mixinStandardHelpOptions = true,
      description =
          "End a held handoff (baton upgrade --hold, handoff.hold): the new generation takes over,"
              + " the old one drains.")
  static final class Commit implements Callable<Integer> {
    @Mixin AdminCall call;

    @Override
    public Integer call() {
      return end(call, "commit", AdminClient::commit);
    }
  }

  @Command(
      name = "abort",
      mixinStandardHelpOptions = true,
      description =
          "End a held handoff the other way: the new generation drains what it accepted and exits,"
              + " the old one serves on.")
  static final class Abort implements Callable<Integer> {
    @Mixin AdminCall call;

    @Option(
        names = "--reason",
        paramLabel = "TEXT",
        defaultValue = "baton abort",
        description = "Logged by both generations.")
    String reason;

    @Override
    public Integer call() {
      return end(call, "abort", client -> client.abort(reason));
    }
  }

  private static int end(AdminCall call, String command, Function<AdminClient, HoldReply> rpc) {
    HoldReply reply = call.ask(command, rpc).orElse(null);
    if (reply == null) {
      return ExitCodes.UNAVAILABLE;
    }
    if (call.json()) {
      System.out.println(AdminCall.json(reply));
    } else if (reply.getHeld()) {
      System.out.println(reply.getDetail());
    } else {
      System.err.println("baton " + command + ": " + reply.getDetail());
    }
    return reply.getHeld() ? ExitCodes.OK : ExitCodes.REFUSED;
  }
}
