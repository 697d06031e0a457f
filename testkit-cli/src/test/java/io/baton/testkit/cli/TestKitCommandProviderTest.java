package io.baton.testkit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.cli.CommandProvider;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TestKitCommandProviderTest {

  @Test
  void batonJarsCliFindsTheTestKitsCommandsUnderTheNamesTheyDeclare() {
    List<CommandProvider> providers =
        ServiceLoader.load(CommandProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .toList();

    assertThat(providers).hasSize(1).first().isInstanceOf(TestKitCommandProvider.class);
    // The names baton.jar lists in its usage (sidecar cli.TestKitCommands.NAMES).
    assertThat(providers.get(0).commands()).containsOnlyKeys("demo", "test-upstream", "h2-load");
    providers
        .get(0)
        .commands()
        .forEach(
            (name, command) ->
                assertThat(new CommandLine(command.get()).getCommandName())
                    .as("the @Command name of %s", name)
                    .isEqualTo(name));
  }
}
