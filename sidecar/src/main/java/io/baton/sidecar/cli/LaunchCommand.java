package io.baton.sidecar.cli;

import io.baton.sidecar.launch.Supervisor;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code baton launch -- run --config FILE}: the supervisor a container runs as PID 1. */
@Command(
    name = "launch",
    mixinStandardHelpOptions = true,
    description = {
      "Supervise generations (meant as PID 1 of a container): start `baton RUN-ARGUMENTS` as a"
          + " child, start",
      "the next generation on SIGUSR2, SIGHUP (config checked first) or `baton upgrade`, pass"
          + " SIGTERM on, reap children,",
      "and exit with the last generation's exit code."
    })
final class LaunchCommand implements Callable<Integer> {

  @Option(
      names = "--standby",
      description =
          "After the generation hands over to a process outside this supervisor (another"
              + " container), stay alive, idle.")
  boolean standby;

  @Parameters(
      arity = "1..*",
      paramLabel = "RUN-ARGUMENTS",
      description = "What each generation runs, e.g. -- run --config FILE.")
  List<String> runArguments;

  @Override
  public Integer call() {
    if (!runArguments.get(0).equals("run")) {
      System.err.println(
          "baton launch: "
              + runArguments
              + " (expected the arguments of `baton run`: -- run --config FILE)");
      return ExitCodes.BAD_CONFIG;
    }
    int config = runArguments.indexOf("--config");
    if (config < 0 || config + 1 >= runArguments.size()) {
      System.err.println(
          "baton launch: " + runArguments + " (expected --config FILE among the run arguments)");
      return ExitCodes.BAD_CONFIG;
    }
    List<String> own = NextGenerationLauncher.ownCommandLine();
    int launch = own.indexOf("launch");
    if (launch < 0) {
      System.err.println(
          "baton launch: own command line " + own + " (expected it to contain `launch`)");
      return ExitCodes.CANNOT_START;
    }
    // The same java, JVM options and jar as this supervisor, with the run arguments.
    List<String> generation = new ArrayList<>(own.subList(0, launch));
    generation.addAll(runArguments);
    return new Supervisor(generation, Path.of(runArguments.get(config + 1)), standby).run();
  }
}
