package io.baton.sidecar.cli;

import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The commands of the test kit, which ships apart from Baton in baton-testkit.jar. Their names are
 * known here so that the usage always lists them, and so that calling one without the test kit says
 * what is missing instead of "unknown command".
 *
 * <p>The test kit is loaded only when one of its commands (or the whole usage) is asked for, in a
 * class loader of its own under baton.jar's: {@code baton run} never looks for it, and the JVM's
 * class path stays {@code -jar baton.jar}. That is what the start-up cache ({@code baton
 * startup-cache}) was made with; a JDK 25 AOT cache refuses a JVM whose class path or native-access
 * options differ from the training's, which {@code -cp baton.jar:baton-testkit.jar} plus {@code
 * --enable-native-access} would (measured: "Mismatched values for property
 * jdk.module.enable.native.access").
 */
final class TestKitCommands {

  /** In the order the usage lists them. */
  static final List<String> NAMES = List.of("demo", "test-upstream", "h2-load");

  static final String JAR_NAME = "baton-testkit.jar";
  static final String JAR_ENV = "BATON_TESTKIT_JAR";

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

  /** Whether {@code name} is a test kit command and the test kit is not installed. */
  static boolean isMissing(String name) {
    return NAMES.contains(name) && !provided().containsKey(name);
  }

  static String missingMessage(String name) {
    List<String> looked =
        candidates(System.getenv(JAR_ENV), batonJar()).stream().map(Path::toString).toList();
    return "baton "
        + name
        + ": the test kit ("
        + JAR_NAME
        + ") is not installed (looked at: "
        + (looked.isEmpty() ? "nothing, baton runs from no jar" : String.join(", ", looked))
        + "); put it beside baton.jar or name it in $"
        + JAR_ENV
        + " (a build makes testkit-cli/target/"
        + JAR_NAME
        + ": mvn -q -DskipTests package)";
  }

  /** Prints {@link #missingMessage} and returns the exit code of a command that cannot run. */
  static int reportMissing(String name) {
    System.err.println(missingMessage(name));
    return USAGE_ERROR;
  }

  /**
   * Where the test kit may be, in order: {@code $BATON_TESTKIT_JAR}; beside baton.jar (an install,
   * the image: /opt/baton); for a jar built in a checkout (sidecar/target/baton.jar), that
   * checkout's testkit-cli/target. Nothing beside classes that do not run from a jar.
   */
  static List<Path> candidates(String env, Optional<Path> batonJar) {
    List<Path> paths = new ArrayList<>();
    if (env != null && !env.isBlank()) {
      paths.add(Path.of(env));
    }
    // Only from a jar: classes in a directory are a build's or an IDE's, whose class path decides.
    Optional<Path> dir =
        batonJar
            .filter(p -> p.getFileName() != null && p.getFileName().toString().endsWith(".jar"))
            .map(Path::getParent);
    if (dir.isPresent()) {
      paths.add(dir.get().resolve(JAR_NAME));
      Path module = dir.get().getParent();
      if (dir.get().endsWith("target")
          && module != null
          && module.endsWith("sidecar")
          && module.getParent() != null) {
        paths.add(module.getParent().resolve("testkit-cli").resolve("target").resolve(JAR_NAME));
      }
    }
    return paths;
  }

  /** The jar (or classes directory) this CLI runs from. */
  private static Optional<Path> batonJar() {
    CodeSource source = BatonCommand.class.getProtectionDomain().getCodeSource();
    if (source == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Path.of(source.getLocation().toURI()));
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
  }

  private static synchronized Map<String, Supplier<Object>> provided() {
    if (provided == null) {
      Map<String, Supplier<Object>> all = new LinkedHashMap<>();
      // Also finds a provider already on the class path (the it-tests, an IDE).
      for (CommandProvider p : ServiceLoader.load(CommandProvider.class, loader())) {
        all.putAll(p.commands());
      }
      provided = Collections.unmodifiableMap(all);
    }
    return provided;
  }

  private static ClassLoader loader() {
    ClassLoader baton = TestKitCommands.class.getClassLoader();
    Optional<Path> jar =
        candidates(System.getenv(JAR_ENV), batonJar()).stream()
            .filter(Files::isRegularFile)
            .findFirst();
    if (jar.isEmpty()) {
      return baton;
    }
    try {
      // Never closed: the command runs on it until the JVM exits.
      return new URLClassLoader("baton-testkit", new URL[] {jar.get().toUri().toURL()}, baton);
    } catch (MalformedURLException e) {
      throw new UncheckedIOException("test kit: " + jar.get() + " (expected a jar path)", e);
    }
  }

  /** A stand-in listed in the usage under the real command's name, that explains the absence. */
  private static CommandSpec missing(String name) {
    CommandSpec spec =
        CommandSpec.wrapWithoutInspection((Callable<Integer>) () -> reportMissing(name));
    spec.name(name);
    spec.usageMessage().description("(the test kit, " + JAR_NAME + ", is not installed)");
    spec.parser().unmatchedArgumentsAllowed(true);
    return spec;
  }
}
