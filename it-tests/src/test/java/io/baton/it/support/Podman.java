package io.baton.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The {@code podman} CLI for process-level tests, one instance per test:
 *
 * <pre>{@code
 * try (Podman podman = new Podman("ContainerImageTest-imageRunsBatonAsUid10001")) {
 *   String pod = podman.podCreate("pod");
 *   String baton = podman.run("baton", List.of("--pod", pod), "localhost/baton:dev", "version");
 *   assertThat(podman.waitForExit(baton, Duration.ofSeconds(30))).isZero();
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Every podman command runs with a deadline ({@link #DEFAULT_TIMEOUT} unless given); a
 *       command that fails or overruns throws {@link CommandFailedException}, naming the command,
 *       its exit code and podman's stderr.
 *   <li>Containers, pods and volumes get unique names {@code baton-it-<test>-<nonce>-<role>} (the
 *       nonce differs per instance, so tests running at once, or a rerun next to a leftover of a
 *       killed JVM, never collide) and carry the label {@code io.baton.it=<nonce>}.
 *   <li>{@link #close()} force-removes exactly what this instance created, with deadlines, even
 *       when the test failed: containers, then pods, then volumes.
 *   <li>Images are never pulled ({@code --pull=never}): no registry is reachable here, and a pull
 *       attempt would only turn a missing local image into a slow, obscure failure.
 * </ul>
 *
 * Podman must be installed ({@code scripts/install-container-deps.sh}); without it the constructor
 * fails the test, never skips it.
 */
public final class Podman implements AutoCloseable {

  /** The deadline of a podman command unless a method takes its own. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /** The label every container, pod and volume of this class carries; its value is the nonce. */
  public static final String LABEL = "io.baton.it";

  private static final Duration REMOVE_TIMEOUT = Duration.ofSeconds(30);

  private final String podman;
  private final String prefix;
  private final String nonce;
  private final List<String> containers = Collections.synchronizedList(new ArrayList<>());
  private final List<String> pods = Collections.synchronizedList(new ArrayList<>());
  private final List<String> volumes = Collections.synchronizedList(new ArrayList<>());

  /**
   * A podman session for one test. {@code testName} (e.g. class and method) becomes part of every
   * name this instance creates, so leftovers say which test made them.
   */
  public Podman(String testName) {
    this.podman = executable().toString();
    String sanitized =
        testName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
    // Names stay readable in `podman ps`; 40 characters of the test name say enough.
    this.prefix = "baton-it-" + (sanitized.length() > 40 ? sanitized.substring(0, 40) : sanitized);
    byte[] random = new byte[4];
    ThreadLocalRandom.current().nextBytes(random);
    this.nonce = HexFormat.of().formatHex(random);
  }

  /** What a finished podman command printed, and its exit code. */
  public record Result(int exitCode, String stdout, String stderr) {}

  /** A podman command that exited non-zero, overran its deadline, or could not start. */
  public static final class CommandFailedException extends RuntimeException {
    private final List<String> command;
    private final int exitCode;
    private final String stderr;

    CommandFailedException(List<String> command, int exitCode, String stderr, String message) {
      super(message);
      this.command = List.copyOf(command);
      this.exitCode = exitCode;
      this.stderr = stderr;
    }

    /** The full argv, podman first. */
    public List<String> command() {
      return command;
    }

    /** The exit code; -1 if the command overran its deadline (it was killed) or never started. */
    public int exitCode() {
      return exitCode;
    }

    /** What podman wrote to stderr (for exec: what the command inside wrote there). */
    public String stderr() {
      return stderr;
    }
  }

  /** The {@code podman} executable on the PATH; fails (never skips) the test when there is none. */
  public static Path executable() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "podman");
      if (Files.isExecutable(candidate)) {
        return candidate.toAbsolutePath();
      }
    }
    throw new AssertionError(
        "podman: not on the PATH (expected: installed by scripts/install-container-deps.sh, run by"
            + " scripts/install-test-deps.sh); the container tests fail rather than skip without"
            + " it");
  }

  /** The unique name this instance gives {@code role}: {@code baton-it-<test>-<nonce>-<role>}. */
  public String name(String role) {
    return prefix + "-" + nonce + "-" + role;
  }

  /**
   * Starts a detached container named {@link #name name(role)} and returns that name: {@code podman
   * run -d --pull=never --name NAME --label io.baton.it=NONCE OPTIONS IMAGE COMMAND}. {@code
   * options} are podman run's own (e.g. {@code --pod}, {@code -v}, {@code -p 127.0.0.1::8080},
   * {@code --user}); an empty {@code command} runs the image's CMD. The container is kept after it
   * exits (for {@link #logs}) until {@link #close()}.
   */
  public String run(String role, List<String> options, String image, String... command) {
    String name = name(role);
    // Remembered before the command runs: a run that times out may still have created it.
    containers.add(name);
    List<String> args =
        new ArrayList<>(
            List.of("run", "-d", "--pull=never", "--name", name, "--label", LABEL + "=" + nonce));
    args.addAll(options);
    args.add(image);
    args.addAll(List.of(command));
    podman(DEFAULT_TIMEOUT, args);
    return name;
  }

  /**
   * Runs {@code command} in the running {@code container} ({@code podman exec}, the container's
   * user) and returns its stdout; throws {@link CommandFailedException} if it exits non-zero.
   */
  public String exec(String container, String... command) {
    return podman(DEFAULT_TIMEOUT, execArgs(container, command)).stdout();
  }

  /**
   * As {@link #exec}, but returns the exit code and output whatever the exit code; still throws on
   * the deadline.
   */
  public Result tryExec(String container, Duration timeout, String... command) {
    return tryPodman(timeout, execArgs(container, command));
  }

  /** The container's stdout and stderr so far, stdout first (podman keeps them apart). */
  public String logs(String container) {
    Result r = podman(DEFAULT_TIMEOUT, List.of("logs", container));
    return r.stdout() + r.stderr();
  }

  /**
   * Waits until {@code container} has exited and returns its exit code; throws {@link
   * CommandFailedException} naming the container if it is still running at {@code deadline}.
   */
  public int waitForExit(String container, Duration deadline) {
    String out;
    try {
      out = podman(deadline, List.of("wait", container)).stdout().trim();
    } catch (CommandFailedException e) {
      if (e.exitCode() != -1) {
        throw e;
      }
      throw new CommandFailedException(
          e.command(),
          -1,
          e.stderr(),
          "container "
              + container
              + ": still running after "
              + deadline
              + " (expected it to exit); state: "
              + stateOf(container));
    }
    try {
      return Integer.parseInt(out);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(
          "podman wait " + container + ": expected an exit code, got '" + out + "'", e);
    }
  }

  private String stateOf(String container) {
    Result r =
        tryPodman(DEFAULT_TIMEOUT, List.of("inspect", "--format", "{{.State.Status}}", container));
    return r.exitCode() == 0 ? r.stdout().trim() : "unknown (" + r.stderr().strip() + ")";
  }

  /** Stops {@code container}: SIGTERM (or the image's stop signal), SIGKILL after {@code grace}. */
  public void stop(String container, Duration grace) {
    podman(
        grace.plus(DEFAULT_TIMEOUT),
        List.of("stop", "-t", Long.toString(grace.toSeconds()), container));
  }

  /** Sends {@code signal} (e.g. {@code TERM}, {@code USR2}) to the container's main process. */
  public void kill(String container, String signal) {
    podman(DEFAULT_TIMEOUT, List.of("kill", "--signal", signal, container));
  }

  /**
   * Creates a pod named {@link #name name(role)} and returns that name. Its containers ({@code
   * run(..., List.of("--pod", pod), ...)}) share its network namespace: loopback reaches each
   * other. {@code options} are podman pod create's own (e.g. {@code -p 127.0.0.1::8080}).
   */
  public String podCreate(String role, String... options) {
    String name = name(role);
    pods.add(name);
    List<String> args =
        new ArrayList<>(List.of("pod", "create", "--name", name, "--label", LABEL + "=" + nonce));
    args.addAll(List.of(options));
    podman(DEFAULT_TIMEOUT, args);
    return name;
  }

  /**
   * Creates a named volume {@link #name name(role)} and returns that name (mount it with {@code -v
   * NAME:/path}).
   */
  public String volumeCreate(String role) {
    String name = name(role);
    volumes.add(name);
    podman(DEFAULT_TIMEOUT, List.of("volume", "create", "--label", LABEL + "=" + nonce, name));
    return name;
  }

  /**
   * One field of {@code podman inspect} of a container, pod, volume or image, as a Go template,
   * e.g. {@code inspect(c, "{{.State.ExitCode}}")} or {@code inspect(c, "{{.Config.User}}")};
   * trimmed.
   */
  public String inspect(String object, String format) {
    return podman(DEFAULT_TIMEOUT, List.of("inspect", "--format", format, object)).stdout().trim();
  }

  /**
   * The host port published for {@code containerPort/tcp} of a container or a pod's infra
   * container.
   */
  public int publishedPort(String containerOrPod, int containerPort) {
    // `podman port` prints e.g. "127.0.0.1:43567" for one port.
    String target =
        pods.contains(containerOrPod)
            ? inspect(containerOrPod, "{{.InfraContainerID}}")
            : containerOrPod;
    String out =
        podman(DEFAULT_TIMEOUT, List.of("port", target, containerPort + "/tcp")).stdout().trim();
    String first =
        out.lines()
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "podman port "
                            + containerOrPod
                            + " "
                            + containerPort
                            + ": nothing published"));
    return Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
  }

  /** Whether a local image {@code image} exists (e.g. {@code localhost/baton:dev}). */
  public static boolean imageExists(String image) {
    return runCommand(executable().toString(), DEFAULT_TIMEOUT, List.of("image", "exists", image))
            .exitCode()
        == 0;
  }

  /** Any podman command; throws {@link CommandFailedException} if it exits non-zero or overruns. */
  public Result podman(Duration timeout, List<String> args) {
    Result r = tryPodman(timeout, args);
    if (r.exitCode() != 0) {
      List<String> argv = argv(args);
      throw new CommandFailedException(
          argv,
          r.exitCode(),
          r.stderr(),
          String.join(" ", argv)
              + ": exit code "
              + r.exitCode()
              + " (expected 0); stderr: "
              + r.stderr().strip());
    }
    return r;
  }

  /**
   * Any podman command, whatever its exit code; throws {@link CommandFailedException} only if it
   * overruns.
   */
  public Result tryPodman(Duration timeout, List<String> args) {
    return runCommand(podman, timeout, args);
  }

  /**
   * Prints the logs of every container this instance started to stdout, for a failed test (see
   * {@link DumpLogsOnFailure}, which calls it before {@code @AfterEach} removes them). Never
   * throws.
   */
  public void printLogs() {
    List<String> copy;
    synchronized (containers) {
      copy = new ArrayList<>(containers);
    }
    for (String name : copy) {
      try {
        Result r = tryPodman(DEFAULT_TIMEOUT, List.of("logs", name));
        System.out.println(
            "=== podman logs " + name + " (exit " + r.exitCode() + ")\n" + r.stdout() + r.stderr());
      } catch (RuntimeException e) {
        System.out.println("=== podman logs " + name + ": " + e.getMessage());
      }
    }
  }

  /**
   * Force-removes every container, pod and volume this instance created, each with a deadline, and
   * goes on past a failure to remove the rest; then throws the first failure, if any.
   */
  @Override
  public void close() {
    List<RuntimeException> failures = new ArrayList<>();
    // Containers first (a pod or volume in use cannot go), then pods (with any container a test
    // started in one without run()), then volumes. `-t 0`: no grace, the test is over.
    removeAll(
        containers, name -> List.of("rm", "--force", "--ignore", "-t", "0", "-v", name), failures);
    removeAll(pods, name -> List.of("pod", "rm", "--force", "--ignore", "-t", "0", name), failures);
    // `volume rm` has no --ignore in podman 4.3: a volume that is already gone is not a failure.
    removeAll(volumes, name -> List.of("volume", "rm", "--force", name), failures);
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  private void removeAll(
      List<String> names, Function<String, List<String>> command, List<RuntimeException> failures) {
    List<String> copy;
    synchronized (names) {
      copy = new ArrayList<>(names);
    }
    for (String name : copy) {
      try {
        Result r = tryPodman(REMOVE_TIMEOUT, command.apply(name));
        if (r.exitCode() != 0 && !r.stderr().contains("no such volume")) {
          List<String> argv = argv(command.apply(name));
          failures.add(
              new CommandFailedException(
                  argv,
                  r.exitCode(),
                  r.stderr(),
                  String.join(" ", argv)
                      + ": exit code "
                      + r.exitCode()
                      + " (expected 0); stderr: "
                      + r.stderr().strip()));
          continue;
        }
        names.remove(name);
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
  }

  private List<String> execArgs(String container, String... command) {
    List<String> args = new ArrayList<>(List.of("exec", container));
    args.addAll(List.of(command));
    return args;
  }

  private List<String> argv(List<String> args) {
    List<String> argv = new ArrayList<>();
    argv.add(podman);
    argv.addAll(args);
    return argv;
  }

  private static Result runCommand(String podman, Duration timeout, List<String> args) {
    List<String> argv = new ArrayList<>();
    argv.add(podman);
    argv.addAll(args);
    Path out = null;
    Path err = null;
    Process p = null;
    try {
      // Into files, not pipes: a command that hangs must not block a read past the deadline, and
      // a chatty one must not block on a full pipe.
      out = Files.createTempFile("baton-podman-", ".out");
      err = Files.createTempFile("baton-podman-", ".err");
      p =
          new ProcessBuilder(argv)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        String stderr = Files.readString(err);
        throw new CommandFailedException(
            argv,
            -1,
            stderr,
            String.join(" ", argv)
                + ": did not finish within "
                + timeout
                + " (killed); stderr so far: "
                + stderr.strip());
      }
      return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "podman: cannot run or read the output of " + String.join(" ", argv), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CommandFailedException(
          argv, -1, "", String.join(" ", argv) + ": interrupted while waiting for it");
    } finally {
      if (p != null) {
        p.destroyForcibly();
      }
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  private static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // A temp file left behind costs nothing worth failing a test for.
      }
    }
  }
}
