package io.baton.testkit.cli;

import io.baton.sidecar.cli.BatonCommand;
import io.baton.testkit.demo.DemoRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code baton demo}: an upstream, Baton in front of it, a bounded load and several handoffs to new
 * processes during it; prints what each generation served and that nothing failed.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Run a load through Baton and hand off to new processes during it; print what each"
            + " generation served.")
final class DemoCommand implements Callable<Integer> {

  /** baton.jar's exit code for a bad configuration (cli.ExitCodes.BAD_CONFIG). */
  private static final int BAD_ARGUMENTS = 2;

  @Option(
      names = "--handoffs",
      defaultValue = "3",
      description = "Handoffs during the load (default: ${DEFAULT-VALUE}).")
  int handoffs;

  @Option(
      names = "--seconds",
      defaultValue = "15",
      description =
          "Serving time of the load, shared by the generations: each serves an equal slice of it"
              + " after it took over (default: ${DEFAULT-VALUE}).")
  int seconds;

  @Override
  public Integer call() throws Exception {
    if (handoffs < 1 || seconds < 2) {
      System.err.println(
          "baton demo: --handoffs "
              + handoffs
              + " --seconds "
              + seconds
              + " (expected: >= 1 and >= 2)");
      return BAD_ARGUMENTS;
    }
    // The generations run baton.jar, the jar this CLI came from, not the test kit's.
    Path jar =
        Path.of(BatonCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    return DemoRunner.run(System.out, jar, handoffs, Duration.ofSeconds(seconds));
  }
}
