package io.baton.sidecar.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** PLACEHOLDER until the demo lands. */
@Command(name = "upstream", mixinStandardHelpOptions = true, description = "Run a test upstream.")
final class UpstreamCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    return 1;
  }
}
