package io.baton.it.support;

import io.baton.testkit.process.BatonConfigFile;
import io.baton.testkit.process.BatonProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A temp directory with a config and a run directory, and every Baton process a test starts in it.
 * {@link #close()} kills (by pid) whatever is still running and deletes the directory, even when
 * the test failed; the logs of a failed test are printed first so CI shows why.
 */
public final class BatonFixture implements AutoCloseable {

  /** The packaged jar under test, from the build (it-tests/pom.xml sets it). */
  public static final Path JAR =
      Path.of(System.getProperty("baton.jar", "../sidecar/target/baton.jar")).toAbsolutePath();

  /** The packaged test kit, which goes beside the jar (it-tests/pom.xml sets it). */
  public static final Path TESTKIT_JAR =
      Path.of(System.getProperty("baton.testkit.jar", "../testkit-cli/target/baton-testkit.jar"))
          .toAbsolutePath();

  private static final String LEAK_DETECTION = "-Dio.netty.leakDetection.level=simple";
  private static final String LEAK_REPORT = "LEAK: ";

  private final Path dir;
  private final List<BatonProcess> processes = new ArrayList<>();
  private final List<String> logs = new ArrayList<>();

  public BatonFixture() {
    try {
      dir = Files.createTempDirectory("baton-it-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(
          "baton.jar: " + JAR + " (expected the packaged jar: run mvn verify, not mvn test)");
    }
  }

  public Path dir() {
    return dir;
  }

  public Path runDir() {
    return dir.resolve("run");
  }

  public Path reconfigSock() {
    return runDir().resolve("reconfig.sock");
  }

  /** A config builder writing into this fixture's directory, run directory {@code dir/run}. */
  /**
   * An HTTP listener {@code web} on a free port proxying to {@code upstreamPort}, answers carrying
   * {@code X-Baton-Generation}; the caller adds what its test needs and writes it.
   */
  public BatonConfigFile webProxyConfig(int upstreamPort) {
    return config()
        .servingHeader(true)
        .httpListener("web", "127.0.0.1:0", "backend")
        .cluster("backend", "127.0.0.1:" + upstreamPort);
  }

  public BatonConfigFile config() {
    return BatonConfigFile.builder(dir);
  }

  public BatonProcess start(Path config) {
    return start(config, Map.of());
  }

  public BatonProcess start(Path config, Map<String, String> env) {
    BatonProcess p = BatonProcess.start(JAR, config, dir.resolve("logs"), withLeakDetection(env));
    processes.add(p);
    return p;
  }

  /**
   * Runs {@code WRAPPER... java -jar baton.jar run --config CONFIG}, e.g. with {@code unshare --pid
   * --fork --kill-child --mount-proc} in front: the process this fixture ends is the wrapper, which
   * takes Baton with it.
   */
  public BatonProcess startWrapped(List<String> wrapper, Path config) {
    BatonProcess p =
        BatonProcess.startWrapped(
            wrapper,
            JAR,
            dir.resolve("logs"),
            withLeakDetection(Map.of()),
            "run",
            "--config",
            config.toString());
    processes.add(p);
    return p;
  }

  /**
   * Starts Baton as systemd would with a {@code baton.socket} unit, through {@code
   * systemd-socket-activate} (Debian package {@code systemd}): it binds {@code listen}, waits for
   * the first connection to it, then execs Baton (same pid) with that socket as fd 3, {@code
   * LISTEN_FDS=1} and {@code LISTEN_FDNAMES=fdName}. Baton's environment is only what the tool
   * passes: {@code env} goes through its {@code -E}. Returns once the socket listens.
   */
  public BatonProcess startSocketActivated(
      Path config, String listen, String fdName, Map<String, String> env) {
    String tool = "systemd-socket-activate";
    if (!isOnPath(tool)) {
      throw new IllegalStateException(
          tool
              + ": not on PATH (expected it: scripts/install-test-deps.sh installs Debian package"
              + " systemd)");
    }
    List<String> wrapper =
        new ArrayList<>(List.of(tool, "--listen=" + listen, "--fdname=" + fdName));
    withLeakDetection(env).forEach((name, value) -> wrapper.add("--setenv=" + name + "=" + value));
    BatonProcess p =
        BatonProcess.startWrapped(
            wrapper, JAR, dir.resolve("logs"), Map.of(), "run", "--config", config.toString());
    processes.add(p);
    // Its own log line, once the socket listens: a connection before it would be refused.
    p.awaitLogLine("Listening on " + listen, Duration.ofSeconds(30));
    return p;
  }

  private static boolean isOnPath(String program) {
    return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
        .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
  }

  /** Runs another baton command (validate, version...) as a process. */
  /**
   * {@code baton ARGS --run-dir RUNDIR}: a CLI command against this fixture's Baton, to its end.
   */
  public BatonProcess cli(String... args) {
    String[] all = Arrays.copyOf(args, args.length + 2);
    all[args.length] = "--run-dir";
    all[args.length + 1] = runDir().toString();
    return command(all);
  }

  public BatonProcess command(String... args) {
    BatonProcess p = BatonProcess.startCommand(JAR, dir.resolve("logs"), Map.of(), args);
    processes.add(p);
    return p;
  }

  /**
   * Baton turns Netty's buffer leak detection off for production; under test it is on (sampling),
   * and {@link #close()} fails the test if any process reported a leak.
   */
  private static Map<String, String> withLeakDetection(Map<String, String> env) {
    Map<String, String> merged = new HashMap<>(env);
    merged.merge("JAVA_TOOL_OPTIONS", LEAK_DETECTION, (given, ours) -> ours + " " + given);
    return merged;
  }

  /** Prints the stderr of every process (for a failed test's report). */
  public void dumpLogs() {
    if (logs.isEmpty()) {
      processes.forEach(p -> logs.add(logOf(p)));
    }
    logs.forEach(System.out::println);
  }

  /**
   * Generations that a Baton of this fixture started itself (SIGUSR2, SIGHUP) are not our children
   * once their parent exits; they run with a config in this fixture's directory, which no other
   * process names.
   */
  private void killProcessesStartedByOurs() {
    String marker = dir.toString();
    List<ProcessHandle> strays =
        ProcessHandle.allProcesses()
            .filter(h -> h.pid() != ProcessHandle.current().pid())
            .filter(
                h ->
                    h.info()
                        .arguments()
                        .map(args -> String.join(" ", args).contains(marker))
                        .orElse(false))
            .toList();
    strays.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle h : strays) {
      h.onExit().completeOnTimeout(h, 30, TimeUnit.SECONDS).join();
    }
  }

  private static String logOf(BatonProcess p) {
    return "----- baton pid "
        + p.pid()
        + " stdout -----\n"
        + p.stdoutText()
        + "\n----- stderr -----\n"
        + p.stderrText();
  }

  @Override
  public void close() {
    List<String> leaks = new ArrayList<>();
    killProcessesStartedByOurs();
    for (BatonProcess p : processes) {
      p.close();
      String stderr = p.stderrText();
      stderr
          .lines()
          .filter(l -> l.contains(LEAK_REPORT))
          .forEach(l -> leaks.add("pid " + p.pid() + ": " + l));
      // Kept for DumpLogsOnFailure, which runs after this has deleted the files.
      logs.add(logOf(p));
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (!leaks.isEmpty()) {
      throw new AssertionError("Netty reported leaked buffers:\n" + String.join("\n", leaks));
    }
  }
}
