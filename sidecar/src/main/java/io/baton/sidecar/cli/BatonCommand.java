package io.baton.sidecar.cli;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code baton}: the entry point of the jar. */
@Command(
    name = "baton",
    mixinStandardHelpOptions = true,
    versionProvider = BuildInfo.class,
    description =
        "A sidecar proxy that hands its sockets to its successor without dropping a connection.")
public final class BatonCommand implements Runnable {

  /**
   * Every command, by the name it is called by. Not in the annotation: picocli builds the model of
   * every command listed there (reflection over each one's options) before it runs any, which cost
   * a generation about 100 ms of its start-up on the critical path of a handoff. main() adds only
   * the command it was asked for, and all of them for help or a name it does not know.
   */
  static final Map<String, Supplier<Object>> COMMANDS = commands();

  private static Map<String, Supplier<Object>> commands() {
    Map<String, Supplier<Object>> all = new LinkedHashMap<>();
    all.put("run", RunCommand::new);
    all.put("launch", LaunchCommand::new);
    all.put("status", StatusCommand::new);
    all.put("upgrade", UpgradeCommand::new);
    all.put("commit", HoldCommands.Commit::new);
    all.put("abort", HoldCommands.Abort::new);
    all.put("drain", DrainCommand::new);
    all.put("watch", WatchCommand::new);
    all.put("validate", ValidateCommand::new);
    all.put("version", VersionCommand::new);
    // The test kit's commands live in baton-testkit.jar; listed here so the usage shows them.
    TestKitCommands.NAMES.forEach(name -> all.put(name, TestKitCommands.command(name)));
    // A lambda, not CommandLine.HelpCommand::new: the JDK 25 AOT cache archives resolved method
    // references, and one naming a class in picocli's old (pre-Java-6) class-file format, which
    // the cache leaves out, crashes the cache's assembly (archiveHeapWriter.cpp:757 guarantee).
    all.put("help", () -> new CommandLine.HelpCommand());
    return Collections.unmodifiableMap(all);
  }

  /** The command line for {@code args}: with the one command {@code args} names, else with all. */
  static CommandLine commandLine(String[] args) {
    CommandLine cli = new CommandLine(new BatonCommand());
    Supplier<Object> asked =
        args.length > 0 && !args[0].equals("help") ? COMMANDS.get(args[0]) : null;
    if (asked != null) {
      cli.addSubcommand(args[0], asked.get());
    } else {
      COMMANDS.forEach((name, command) -> cli.addSubcommand(name, command.get()));
    }
    return cli;
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

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
    if (args.length > 0 && TestKitCommands.isMissing(args[0])) {
      System.exit(TestKitCommands.reportMissing(args[0]));
    }
    System.exit(commandLine(args).execute(args));
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "a command is required (run, launch, status, upgrade, commit, abort, drain, watch,"
            + " validate, version, demo)");
  }
}
