package io.baton.sidecar.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** PLACEHOLDER until the demo lands. */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Show a handoff under load.")
final class DemoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    return 1;
  }
}
