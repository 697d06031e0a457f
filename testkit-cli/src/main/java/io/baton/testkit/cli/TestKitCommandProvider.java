package io.baton.testkit.cli;

import io.baton.sidecar.cli.CommandProvider;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The test kit's commands, for baton.jar's CLI: found through {@code
 * META-INF/services/io.baton.sidecar.cli.CommandProvider} in baton-testkit.jar, which baton.jar
 * loads when one of these is asked for. The names are the ones baton.jar lists in its usage
 * (cli.TestKitCommands).
 */
public final class TestKitCommandProvider implements CommandProvider {

  @Override
  public Map<String, Supplier<Object>> commands() {
    return Map.of(
        "demo", DemoCommand::new,
        "test-upstream", UpstreamCommand::new,
        "h2-load", H2LoadCommand::new);
  }
}
