package io.baton.sidecar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BatonCommandTest {

  @Test
  void everyCommandIsListedUnderTheNameItDeclares() {
    BatonCommand.COMMANDS.forEach(
        (name, command) -> {
          Object instance = command.get();
          String declared = new CommandLine(instance).getCommandName();
          assertThat(declared)
              .as("%s's @Command name", instance.getClass().getSimpleName())
              .isEqualTo(name);
        });
  }

  @Test
  void aCommandLineForOneCommandBuildsOnlyThatOne() {
    assertThat(
            BatonCommand.commandLine(new String[] {"run", "--config", "x.yaml"}).getSubcommands())
        .containsOnlyKeys("run");
  }

  @Test
  void helpAndUnknownNamesSeeEveryCommand() {
    assertThat(BatonCommand.commandLine(new String[] {"help", "run"}).getSubcommands())
        .containsOnlyKeys(BatonCommand.COMMANDS.keySet());
    assertThat(BatonCommand.commandLine(new String[] {"--help"}).getSubcommands())
        .containsOnlyKeys(BatonCommand.COMMANDS.keySet());
    CommandLine unknown = BatonCommand.commandLine(new String[] {"rnu"});
    StringWriter err = new StringWriter();
    unknown.setErr(new PrintWriter(err));
    assertThat(unknown.execute("rnu")).isEqualTo(2);
    assertThat(err.toString())
        .as("the usage lists every command")
        .contains("Unmatched argument at index 0: 'rnu'")
        .contains("  run ", "  status ", "  test-upstream ");
  }

  @Test
  void aTestKitCommandWithoutTheTestKitSaysWhatIsMissing() {
    // baton.jar alone: baton-testkit.jar (testkit-cli) is not on this module's class path.
    assertThat(TestKitCommands.isMissing("demo")).isTrue();
    assertThat(TestKitCommands.isMissing("run")).as("a command of baton.jar").isFalse();
    assertThat(TestKitCommands.missingMessage("demo"))
        .startsWith("baton demo: the test kit (baton-testkit.jar) is not installed (looked at: ")
        .contains("); put it beside baton.jar or name it in $BATON_TESTKIT_JAR");
    CommandLine demo = BatonCommand.commandLine(new String[] {"demo", "--handoffs", "1"});
    assertThat(demo.getSubcommands()).containsOnlyKeys("demo");
    assertThat(demo.execute("demo", "--handoffs", "1"))
        .as("the exit code of a usage error")
        .isEqualTo(2);
  }
}
