package io.baton.sidecar.cli;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The commands of the test kit, which ships apart from Baton (baton-testkit.jar, beside baton.jar;
 * {@code bin/baton} puts it on the class path for these commands). Their names are known here so
 * that the usage always lists them, and so that calling one without the test kit says what is
 * missing instead of "unknown command". The jar is looked for only when one of them (or the whole
 * usage) is asked for: {@code baton run} never pays for the {@link ServiceLoader} scan.
 */
final class TestKitCommands {

  /** In the order the usage lists them. */
  static final List<String> NAMES = List.of("demo", "test-upstream", "h2-load");

  private static final int USAGE_ERROR = 2; // as picocli's for an unknown command

  private static Map<String, Supplier<Object>> provided;

  private TestKitCommands() {}

  /** What {@code name} runs: the test kit's command, or one that says the test kit is missing. */
  static Supplier<Object> command(String name) {
    return () -> {
      Supplier<Object> real = provided().get(name);
      return real != null ? real.get() : missing(name);
    };
  }

  /** Whether {@code name} is a test kit command and the test kit is not on the class path. */
  static boolean isMissing(String name) {
    return NAMES.contains(name) && !provided().containsKey(name);
  }

  static String missingMessage(String name) {
    return "baton " + name + ": the test kit (baton-testkit.jar) is not installed; run it through bin/baton, which"
        + " puts baton-testkit.jar after baton.jar on the class path when it lies beside baton.jar or was built"
        + " in this checkout (mvn -q -DskipTests package), or run java -cp baton.jar:baton-testkit.jar "
        + BatonCommand.class.getName() + " " + name;
  }

  /** Prints {@link #missingMessage} and returns the exit code of a command that cannot run. */
  static int reportMissing(String name) {
    System.err.println(missingMessage(name));
    return USAGE_ERROR;
  }

  private static synchronized Map<String, Supplier<Object>> provided() {
    if (provided == null) {
      Map<String, Supplier<Object>> all = new LinkedHashMap<>();
      for (CommandProvider p : ServiceLoader.load(CommandProvider.class, TestKitCommands.class.getClassLoader())) {
        all.putAll(p.commands());
      }
      provided = Collections.unmodifiableMap(all);
    }
    return provided;
  }

  /** A stand-in listed in the usage under the real command's name, that explains the absence. */
  private static CommandSpec missing(String name) {
    CommandSpec spec = CommandSpec.wrapWithoutInspection((Callable<Integer>) () -> reportMissing(name));
    spec.name(name);
    spec.usageMessage().description("(the test kit, baton-testkit.jar, is not installed)");
    spec.parser().unmatchedArgumentsAllowed(true);
    return spec;
  }
}
