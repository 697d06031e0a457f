package io.baton.testkit.process;

import io.baton.sidecar.server.ServingLine;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A Baton generation started from the packaged jar as a real process, its stdout and stderr going
 * to files. Every wait has a deadline; {@link #close()} kills the process if it is still alive, so
 * a test that fails still cleans up. Signals go to this process's pid only.
 */
public final class BatonProcess implements AutoCloseable {

  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final Duration POLL = Duration.ofMillis(20);

  private final Process process;
  private final Path stdout;
  private final Path stderr;

  private BatonProcess(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** Runs {@code java -jar JAR run --config CONFIG} with the extra environment {@code env}. */
  public static BatonProcess start(Path jar, Path config, Path logDir, Map<String, String> env) {
    return startCommand(jar, logDir, env, "run", "--config", config.toString());
  }

  /** Runs {@code java -jar JAR ARGS...}, e.g. {@code validate --config FILE}. */
  public static BatonProcess startCommand(
      Path jar, Path logDir, Map<String, String> env, String... args) {
    return startWrapped(List.of(), jar, logDir, env, args);
  }

  /**
   * Runs {@code java -jar JAR run --config CONFIG} with the JVM options of this very process (the
   * ones {@code bin/baton} chose for it: heap, start-up cache...), so that generations started from
   * here, like the demo's, start the way a user's would.
   */
  public static BatonProcess startLikeThisJvm(Path jar, Path config, Path logDir) {
    List<String> command = new ArrayList<>();
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of("-jar", jar.toString(), "run", "--config", config.toString()));
    return startProcess(command, logDir, Map.of());
  }

  /**
   * Runs {@code WRAPPER... java -jar JAR ARGS...}: a wrapper that execs Baton in its own place
   * (e.g. {@code systemd-socket-activate}), so that {@link #pid()} is Baton's.
   */
  public static BatonProcess startWrapped(
      List<String> wrapper, Path jar, Path logDir, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(wrapper);
    command.addAll(javaCommand());
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(List.of(args));
    return startProcess(command, logDir, env);
  }

  private static BatonProcess startProcess(
      List<String> command, Path logDir, Map<String, String> env) {
    try {
      Files.createDirectories(logDir);
      int n = SEQUENCE.incrementAndGet();
      Path out = logDir.resolve("baton-" + n + ".out");
      Path err = logDir.resolve("baton-" + n + ".err");
      ProcessBuilder pb =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      pb.environment().putAll(env);
      return new BatonProcess(pb.start(), out, err);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }

  /**
   * The running JVM's java, with the flag Netty 4.2 needs on JDK 24 and later. No heap size here: a
   * caller sets one through {@code JAVA_TOOL_OPTIONS} (command-line flags would override it).
   */
  public static List<String> javaCommand() {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd =
        new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    if (Runtime.version().feature() >= 24) {
      cmd.add("--sun-misc-unsafe-memory-access=allow");
    }
    return cmd;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits for the {@code baton serving} line; fails early with the stderr tail if the process
   * exits.
   */
  public ServingLine awaitServing(Duration timeout) {
    return ServingLine.parse(
        awaitLine(stdout, l -> l.startsWith(ServingLine.PREFIX), timeout, "the serving line"));
  }

  /**
   * Waits for the serving line of {@code generation}, printed by a process this one started (a
   * child inherits stdout): unlike {@link #awaitServing}, this process may exit meanwhile.
   */
  public ServingLine awaitServingOfGeneration(long generation, Duration timeout) {
    String prefix = ServingLine.PREFIX + "generation=" + generation + " ";
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<String> line = lines(stdout).stream().filter(l -> l.startsWith(prefix)).findFirst();
      if (line.isPresent()) {
        return ServingLine.parse(line.get());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no serving line of generation "
                + generation
                + " on the stdout of pid "
                + pid()
                + " within "
                + timeout
                + "; stderr:\n"
                + tail(stderr, 30));
      }
      pause();
    }
  }

  /** Waits for a stderr (log) line containing {@code text}; returns that line. */
  public String awaitLogLine(String text, Duration timeout) {
    return awaitLine(
        stderr, l -> l.contains(text), timeout, "a log line containing \"" + text + "\"");
  }

  /** Whether a stderr (log) line contains {@code text}, now. */
  public boolean logContains(String text) {
    return lines(stderr).stream().anyMatch(l -> l.contains(text));
  }

  private String awaitLine(Path file, Predicate<String> match, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<String> line = lines(file).stream().filter(match).findFirst();
      if (line.isPresent()) {
        return line.get();
      }
      if (!process.isAlive() && lines(file).stream().noneMatch(match)) {
        throw new IllegalStateException(
            "pid "
                + pid()
                + " exited with "
                + process.exitValue()
                + " before "
                + what
                + "; stderr:\n"
                + tail(stderr, 30));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "pid "
                + pid()
                + ": no "
                + what
                + " within "
                + timeout
                + "; stderr:\n"
                + tail(stderr, 30));
      }
      pause();
    }
  }

  /** Waits for the process to exit; returns its exit code. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(
            "pid " + pid() + " still running after " + timeout + "; stderr:\n" + tail(stderr, 30),
            new TimeoutException());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for pid " + pid(), e);
    }
  }

  /** Sends {@code signal} (e.g. "TERM") to this process only. */
  public void signal(String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** SIGKILL, then waits until the process is gone. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(30));
  }

  /** The number of open fds of the process, from {@code /proc/PID/fd}. */
  public int openFds() {
    try (var entries = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
      return (int) entries.count();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list /proc/" + pid() + "/fd", e);
    }
  }

  public String stdoutText() {
    return String.join("\n", lines(stdout));
  }

  public String stderrText() {
    return String.join("\n", lines(stderr));
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      // A line being written may not be valid UTF-8 yet: read again on the next poll.
      return List.of();
    }
  }

  private static String tail(Path file, int n) {
    List<String> all = lines(file);
    return String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
  }

  private static void pause() {
    try {
      Thread.sleep(POLL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
