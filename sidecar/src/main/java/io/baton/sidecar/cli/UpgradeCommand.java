package io.baton.sidecar.cli;

import io.baton.proto.admin.v1.UpgradeReply;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code baton upgrade}: the active process starts the next generation, which takes over. */
@Command(name = "upgrade", mixinStandardHelpOptions = true,
    description = {"Make the active Baton start the next generation (its own command line, or another jar or --config);",
        "the new process takes over the listeners and connections, the old one drains and exits.",
        "Returns once the new process is started; `baton watch` follows the handoff."})
final class UpgradeCommand implements Callable<Integer> {

  @Mixin
  AdminCall call;

  @Option(names = "--jar", paramLabel = "PATH", description = "The jar the next generation runs (default: the running one).")
  Path jar;

  @Option(names = "--hold",
      description = "Hold the new generation after Ready: both accept until `baton commit` or `baton abort`.")
  boolean hold;

  @Override
  public Integer call() {
    String jarPath = jar == null ? "" : jar.toAbsolutePath().toString();
    // --config names the config the next generation reads (checked before anything starts), and
    // with it the run directory; without it, the running config.
    String configPath = call.config == null ? "" : call.config.toAbsolutePath().toString();
    UpgradeReply reply = call.ask("upgrade", client -> client.upgrade(jarPath, configPath, hold)).orElse(null);
    if (reply == null) {
      return ExitCodes.UNAVAILABLE;
    }
    boolean started = "started".equals(reply.getResult());
    if (call.json()) {
      System.out.println(AdminCall.json(reply));
    } else if (started) {
      System.out.println(reply.getPid() == 0 ? reply.getDetail()
          : "started pid " + reply.getPid() + " as the next generation" + (hold ? ", held after Ready" : ""));
    } else {
      System.err.println("baton upgrade: " + reply.getResult() + ": " + reply.getDetail());
    }
    return started ? ExitCodes.OK : ExitCodes.REFUSED;
  }
}
