package io.baton.sidecar.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code baton}: the entry point of the jar. */
@Command(
    name = "baton",
    mixinStandardHelpOptions = true,
    versionProvider = BuildInfo.class,
    description = "A sidecar proxy that hands its sockets to its successor without dropping a connection.",
    subcommands = {RunCommand.class, LaunchCommand.class, StatusCommand.class, UpgradeCommand.class, HoldCommands.Commit.class,
        HoldCommands.Abort.class, DrainCommand.class, WatchCommand.class,
        ValidateCommand.class, VersionCommand.class, DemoCommand.class, UpstreamCommand.class, H2LoadCommand.class, CommandLine.HelpCommand.class})
public final class BatonCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private static final String NETTY_LEAK_DETECTION = "io.netty.leakDetection.level";

  public static void main(String[] args) {
    // Every log line names its process: two generations log side by side during a handoff.
    System.setProperty("PID", Long.toString(ProcessHandle.current().pid()));
    // Netty samples one buffer in 128 for leak tracking by default; each sample records a stack
    // trace, which cost Baton about 15% CPU per proxied request in bench/ (see RESULTS.md). Off
    // unless the operator asks: -Dio.netty.leakDetection.level=simple (or paranoid) in JAVA_OPTS.
    if (System.getProperty(NETTY_LEAK_DETECTION) == null) {
      System.setProperty(NETTY_LEAK_DETECTION, "disabled");
    }
    System.exit(new CommandLine(new BatonCommand()).execute(args));
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (run, launch, status, upgrade, commit, abort, drain, watch, validate, version, demo)");
  }
}
