package io.baton.sidecar.cli;

import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigException;
import io.baton.sidecar.config.ConfigLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Checks a config file without starting anything. */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = "Check a config file without starting.")
final class ValidateCommand implements Callable<Integer> {

  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "The YAML config file.")
  Path config;

  @Override
  public Integer call() {
    try {
      BatonConfig c = ConfigLoader.load(config);
      System.out.println(
          "config "
              + config
              + ": ok ("
              + c.listeners().size()
              + " listeners, "
              + c.clusters().size()
              + " clusters, runDir "
              + c.runDir()
              + ")");
      return 0;
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return ExitCodes.BAD_CONFIG;
    }
  }
}
