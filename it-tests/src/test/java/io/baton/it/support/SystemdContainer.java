package io.baton.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A container whose PID 1 is a real systemd ({@code podman run --systemd=always ... /sbin/init}),
 * from the image {@code deploy/systemd/test-image.sh} builds, sharing the host's network namespace
 * ({@code --network host}) so that a test's upstream and load clients on 127.0.0.1 reach Baton in
 * it and Baton reaches them. Everything runs through {@link Podman}, whose {@code close()} removes
 * the container.
 */
public final class SystemdContainer {

  /** Where the image script lives, from the build (it-tests/pom.xml sets baton.deploy). */
  public static final Path DEPLOY =
      Path.of(System.getProperty("baton.deploy", "../deploy")).toAbsolutePath();

  /** Longest a first build of the image may take: debootstrap downloads ~150 MB of packages. */
  private static final Duration IMAGE_BUILD = Duration.ofMinutes(10);

  /** Longest systemd may take to boot the container to running. */
  private static final Duration BOOT = Duration.ofSeconds(60);

  /** Where the state watcher writes; /run is a tmpfs in a systemd container. */
  private static final String STATE_LOG = "/run/baton-it-states.log";

  private final Podman podman;
  private final String name;

  private SystemdContainer(Podman podman, String name) {
    this.podman = podman;
    this.name = name;
  }

  /**
   * The test image's name, building it first if it is missing ({@code
   * deploy/systemd/test-image.sh}; cached in podman's image store under a tag that changes with the
   * script).
   */
  public static String testImage() {
    Path script = DEPLOY.resolve("systemd/test-image.sh");
    Path output = null;
    try {
      output = Files.createTempFile("baton-test-image-", ".out");
      Process p =
          new ProcessBuilder(script.toString())
              .redirectErrorStream(false)
              .redirectOutput(output.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      if (!p.waitFor(IMAGE_BUILD.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(script + ": did not finish within " + IMAGE_BUILD + " (killed)");
      }
      List<String> lines = Files.readAllLines(output);
      if (p.exitValue() != 0 || lines.isEmpty()) {
        throw new AssertionError(
            script
                + ": exit code "
                + p.exitValue()
                + " (expected 0 and the image name on stdout);"
                + " stdout: "
                + lines
                + "; its stderr is in the test output above");
      }
      return lines.get(lines.size() - 1).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while building the image with " + script, e);
    } finally {
      if (output != null) {
        output.toFile().delete();
      }
    }
  }

  /**
   * Boots {@code image} with systemd as PID 1 and waits until {@code systemctl is-system-running}
   * says running; fails naming the failed units if it says degraded.
   */
  public static SystemdContainer boot(Podman podman, String image) {
    String name =
        podman.run(
            "systemd",
            List.of(
                // crun refuses this machine kind's hybrid cgroup v1 layout; runc boots systemd in
                // it.
                "--runtime",
                "runc",
                // Tells podman to set the container up for an init system: tmpfs /run and /tmp, the
                // cgroup file system writable for systemd, container=podman, stop with SIGRTMIN+3.
                "--systemd=always",
                "--network",
                "host",
                // Under any sane host hard limit (podman's default nofile 1048576 is over this
                // machine's
                // 20000, and runc cannot raise a hard limit); ample for Baton and the test's few
                // connections.
                "--ulimit",
                "nofile=4096:4096",
                "--ulimit",
                "nproc=4096:4096"),
            image,
            "/sbin/init");
    SystemdContainer c = new SystemdContainer(podman, name);
    // `podman run -d` returns once PID 1 was started, maybe before systemd listens on its private
    // socket: systemctl then fails to connect and prints nothing. Asked again until it answers;
    // --wait makes an answer wait for the boot to finish.
    AtomicReference<Podman.Result> last = new AtomicReference<>();
    try {
      Awaitility.await("systemd in " + name + " to answer systemctl")
          .atMost(BOOT)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                last.set(podman.tryExec(name, BOOT, "systemctl", "is-system-running", "--wait"));
                return !last.get().stdout().isBlank();
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "container "
              + name
              + ": `systemctl is-system-running --wait` did not answer within "
              + BOOT
              + "; last exit code "
              + last.get().exitCode()
              + ", stderr: "
              + last.get().stderr().strip(),
          e);
    }
    String state = last.get().stdout().strip();
    if (!state.equals("running")) {
      throw new AssertionError(
          "container "
              + name
              + ": systemctl is-system-running says '"
              + state
              + "' (expected running); failed units:\n"
              + c.tryShell("systemctl --failed --no-pager").stdout());
    }
    return c;
  }

  public String name() {
    return name;
  }

  /** Copies {@code hostFile} into the container as {@code path}, creating its directory. */
  public void copyIn(Path hostFile, String path) {
    shell("mkdir -p \"$(dirname '" + path + "')\"");
    podman.podman(Podman.DEFAULT_TIMEOUT, List.of("cp", hostFile.toString(), name + ":" + path));
  }

  /**
   * {@code sh -c script} in the container; its stdout. Fails naming the script, exit code and
   * stderr.
   */
  public String shell(String script) {
    return podman.exec(name, "sh", "-c", script);
  }

  /** {@code sh -c script} in the container, whatever its exit code (within {@code timeout}). */
  public Podman.Result tryShell(String script, Duration timeout) {
    return podman.tryExec(name, timeout, "sh", "-c", script);
  }

  public Podman.Result tryShell(String script) {
    return tryShell(script, Podman.DEFAULT_TIMEOUT);
  }

  /** {@code systemctl ARGS} in the container; its stdout; fails on a non-zero exit. */
  public String systemctl(String... args) {
    List<String> command = new ArrayList<>(List.of("systemctl"));
    command.addAll(List.of(args));
    return podman.exec(name, command.toArray(String[]::new));
  }

  /** {@code systemctl ARGS} with its exit code and stderr (systemctl warns there). */
  public Podman.Result trySystemctl(Duration timeout, String... args) {
    List<String> command = new ArrayList<>(List.of("systemctl"));
    command.addAll(List.of(args));
    return podman.tryExec(name, timeout, command.toArray(String[]::new));
  }

  /** {@code ActiveState/SubState} of any unit, e.g. {@code active/listening} for a socket. */
  public String activeAndSubState(String unit) {
    return property(unit, "ActiveState") + "/" + property(unit, "SubState");
  }

  /** One property of {@code unit} ({@code systemctl show -p NAME --value UNIT}). */
  public String property(String unit, String property) {
    return systemctl("show", "-p", property, "--value", unit).strip();
  }

  /**
   * Starts recording every change of {@code unit}'s state as {@code systemctl show} reports it: a
   * transient unit ({@code systemd-run}) polls every 20 ms and writes each new state with its time.
   * {@code systemctl show} is a snapshot; polling is how a client sees systemd's states. The short
   * interval keeps states that last a few hundred milliseconds (a reload) in the record.
   */
  public void watchStates(String unit) {
    String loop =
        "prev=; while :; do "
            + "cur=$(systemctl show -p "
            + UnitState.PROPERTIES
            + " "
            + unit
            + " | sort | tr '\\n"
            + "' '\\t'); if [ \"$cur\" != \"$prev\" ]; then printf '%s\\t%s\\n"
            + "' \"$(date +%s%N)\" \"$cur\" >> "
            + STATE_LOG
            + "; prev=$cur; fi; "
            + "sleep 0.02; done";
    podman.exec(
        name, "systemd-run", "--quiet", "--unit=baton-it-states", "--collect", "sh", "-c", loop);
  }

  /** The states recorded since {@link #watchStates}, oldest first. */
  public List<TimedState> states() {
    Podman.Result r = tryShell("cat " + STATE_LOG);
    List<TimedState> states = new ArrayList<>();
    if (r.exitCode() != 0) {
      return states;
    }
    String[] lines = r.stdout().split("\n");
    for (int i = 0; i < lines.length; i++) {
      try {
        int tab = lines[i].indexOf('\t');
        states.add(
            new TimedState(
                Long.parseLong(lines[i].substring(0, tab)) / 1_000_000,
                UnitState.parse(lines[i].substring(tab + 1).replace('\t', '\n'))));
      } catch (RuntimeException e) {
        if (i < lines.length - 1) {
          throw new IllegalStateException(
              STATE_LOG + " line " + (i + 1) + ": \"" + lines[i] + "\" (expected TIME<tab>STATE)",
              e);
        }
        // The last line, being written as we read: the next read has it whole.
      }
    }
    return states;
  }

  /**
   * {@code journalctl -u UNIT} (systemd's own lines about the unit and what its processes wrote).
   */
  public String journal(String... units) {
    StringBuilder command = new StringBuilder("journalctl --no-pager -o short-precise");
    for (String u : units) {
      command.append(" -u ").append(u);
    }
    return tryShell(command.toString()).stdout();
  }

  /** Whether a process {@code pid} (a pid of the container's namespace) exists. */
  public boolean processExists(long pid) {
    return tryShell("test -d /proc/" + pid).exitCode() == 0;
  }

  /**
   * The command line of process {@code pid}, arguments joined by spaces; empty if it does not
   * exist.
   */
  public String commandLine(long pid) {
    Podman.Result r = tryShell("tr '\\0' ' ' < /proc/" + pid + "/cmdline");
    return r.exitCode() == 0 ? r.stdout().strip() : "";
  }

  /** A state of a unit at a time (epoch milliseconds, the host's clock: containers share it). */
  public record TimedState(long epochMillis, UnitState state) {
    @Override
    public String toString() {
      return epochMillis + " " + state;
    }
  }

  /** The four properties of a service that tell how a Type=notify service is doing. */
  public record UnitState(String activeState, String subState, long mainPid, String statusText) {

    static final String PROPERTIES = "ActiveState,SubState,MainPID,StatusText";

    public static UnitState parse(String showOutput) {
      Map<String, String> values = new LinkedHashMap<>();
      for (String line : showOutput.split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          values.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      for (String p : PROPERTIES.split(",")) {
        if (!values.containsKey(p)) {
          throw new IllegalArgumentException(
              "systemctl show output: \"" + showOutput + "\" (expected a line " + p + "=...)");
        }
      }
      return new UnitState(
          values.get("ActiveState"),
          values.get("SubState"),
          Long.parseLong(values.get("MainPID")),
          values.get("StatusText"));
    }

    /** e.g. {@code active/running pid 87 "generation 1 serving on 1 listener"}. */
    @Override
    public String toString() {
      return activeState + "/" + subState + " pid " + mainPid + " \"" + statusText + "\"";
    }
  }
}
