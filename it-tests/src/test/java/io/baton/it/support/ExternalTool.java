package io.baton.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command-line tool the deploy tests need (promtool, prometheus) with a deadline. A tool
 * that is not installed fails the test with how to install it: Baton's CI must not pass by skipping
 * what it could not check.
 */
public final class ExternalTool {

  private ExternalTool() {}

  /** What a finished command printed (stdout and stderr, interleaved) and its exit code. */
  public record Result(int exitCode, String output) {}

  /**
   * The absolute path of {@code name} (from Debian's prometheus) on the PATH; fails the test if
   * there is none.
   */
  public static Path require(String name) {
    return require(name, "prometheus");
  }

  /**
   * The absolute path of {@code name} on the PATH; fails the test, naming {@code debianPackage}, if
   * there is none.
   */
  public static Path require(String name, String debianPackage) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate.toAbsolutePath();
      }
    }
    throw new AssertionError(
        name
            + ": not on the PATH (expected: installed by scripts/install-test-deps.sh,"
            + " Debian package "
            + debianPackage
            + "); the tests that need it fail rather than skip without it");
  }

  /**
   * Runs {@code command} in {@code dir} with {@code stdin} as its input; kills it at {@code
   * timeout}.
   */
  public static Result run(Path dir, String stdin, Duration timeout, String... command) {
    List<String> argv = new ArrayList<>(List.of(command));
    argv.set(0, require(command[0]).toString());
    Process p;
    Path output;
    try {
      // Into a file, not a pipe: a tool that hangs must not block the read past the deadline.
      output = Files.createTempFile("baton-tool-", ".out");
      p =
          new ProcessBuilder(argv)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + argv, e);
    }
    try {
      try (var in = p.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(argv + " did not finish within " + timeout);
      }
      return new Result(p.exitValue(), Files.readString(output));
    } catch (IOException e) {
      throw new UncheckedIOException("talking to " + argv, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + argv, e);
    } finally {
      p.destroyForcibly();
      output.toFile().delete();
    }
  }

  public static Result run(Path dir, Duration timeout, String... command) {
    return run(dir, "", timeout, command);
  }
}
