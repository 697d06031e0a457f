package io.baton.sidecar.upgrade;

import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigException;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.systemd.SocketActivation;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the next generation as a child process running this process's own command line. The child
 * finds this process through the run directory and takes over as any new process would; it outlives
 * this one, which exits after its drain.
 */
public final class NextGenerationLauncher {

  private static final Logger log = LoggerFactory.getLogger(NextGenerationLauncher.class);

  /**
   * Longest wait for the shell of {@link #startDetached} to fork the new generation, and to exit.
   */
  private static final Duration DETACH_TIMEOUT = Duration.ofSeconds(10);

  private final List<String> commandLine;
  private final Path configFile;
  private final Path runDir;
  private final long generation;
  private final BooleanSupplier serving;
  private final BatonMetrics metrics;

  /** {@code baton launch}'s pid when it supervises this process: it starts the next generation. */
  private final OptionalLong supervisor;

  /**
   * Start the next generation as the service manager's child, not ours: see {@link #startDetached}.
   */
  private final boolean detach;

  /** The last generation started from here; guarded by {@code this}. */
  private ProcessHandle started;

  /**
   * @param commandLine what to run, usually {@link #ownCommandLine()}
   * @param serving whether this process is the active one, not taking over or draining
   */
  public NextGenerationLauncher(
      List<String> commandLine,
      Path configFile,
      Path runDir,
      long generation,
      BooleanSupplier serving,
      BatonMetrics metrics,
      OptionalLong supervisor) {
    this(commandLine, configFile, runDir, generation, serving, metrics, supervisor, false);
  }

  /**
   * @param detach start each generation detached ({@link #startDetached}): under systemd, which
   *     follows the new generation's {@code MAINPID=} and handles it well only if it is its own
   *     child
   */
  public NextGenerationLauncher(
      List<String> commandLine,
      Path configFile,
      Path runDir,
      long generation,
      BooleanSupplier serving,
      BatonMetrics metrics,
      OptionalLong supervisor,
      boolean detach) {
    if (commandLine.isEmpty()) {
      throw new IllegalArgumentException(
          "commandLine: [] (expected the program and its arguments)");
    }
    this.commandLine = List.copyOf(commandLine);
    this.configFile = configFile.toAbsolutePath();
    this.runDir = runDir.toAbsolutePath().normalize();
    this.generation = generation;
    this.serving = serving;
    this.metrics = metrics;
    this.supervisor = supervisor;
    this.detach = detach;
  }

  /**
   * This process's command line (java, its options, -jar, the jar, run --config FILE), as the
   * kernel has it.
   */
  public static List<String> ownCommandLine() {
    ProcessHandle.Info info = ProcessHandle.current().info();
    String program =
        info.command()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "own command line: not readable from /proc/self (expected it, to start the"
                            + " next generation the same way)"));
    List<String> line = new ArrayList<>();
    line.add(program);
    line.addAll(List.of(info.arguments().orElse(new String[0])));
    return line;
  }

  /** What a request for the next generation came to. */
  public record Launch(UpgradeResult result, long pid, String detail) {
    static Launch refused(UpgradeResult result, String detail) {
      return new Launch(result, 0, detail);
    }
  }

  /**
   * Starts the next generation unless {@code trigger} must be refused; logs and counts either way.
   */
  public Launch launch(UpgradeTrigger trigger) {
    return launch(trigger, null, null, false);
  }

  /**
   * As {@link #launch(UpgradeTrigger)}, the next generation running {@code jar} instead of this
   * one's and reading {@code config} instead of this one's (null: the same), held after Ready if
   * {@code hold} (both generations accept until a commit or an abort).
   */
  public synchronized Launch launch(UpgradeTrigger trigger, Path jar, Path config, boolean hold) {
    Launch launch =
        tryLaunch(trigger, jar, config == null ? configFile : config.toAbsolutePath(), hold);
    metrics.upgradeRequested(trigger.label(), launch.result().label());
    return launch;
  }

  private Launch tryLaunch(UpgradeTrigger trigger, Path jar, Path config, boolean hold) {
    if (!serving.getAsBoolean()) {
      String detail =
          "generation "
              + generation
              + " is not the serving one (a handoff is under way, or it stops)";
      log.warn("{}: {}: no new generation started", trigger.label(), detail);
      return Launch.refused(UpgradeResult.BUSY, detail);
    }
    if (started != null && started.isAlive()) {
      String detail =
          "pid " + started.pid() + " is still taking over as generation " + (generation + 1);
      log.warn("{}: {}: no other one started", trigger.label(), detail);
      return Launch.refused(UpgradeResult.BUSY, detail);
    }
    if (trigger.checksConfigFirst()) {
      String problem = configProblem(config);
      if (problem != null) {
        log.error(
            "{}: {}; nothing changes, generation {} serves on",
            trigger.label(),
            problem,
            generation);
        return Launch.refused(UpgradeResult.INVALID_CONFIG, problem);
      }
    }
    if (supervisor.isPresent()) {
      return askSupervisor(trigger, supervisor.getAsLong(), jar, config, hold);
    }
    List<String> command;
    try {
      command = commandFor(jar, config, hold);
    } catch (IllegalArgumentException e) {
      log.error("{}: {}; nothing changes", trigger.label(), e.getMessage());
      return Launch.refused(UpgradeResult.SPAWN_FAILED, e.getMessage());
    }
    ProcessHandle child;
    try {
      child = detach ? startDetached(command, trigger) : startChild(command, trigger);
    } catch (IOException e) {
      log.error(
          "{}: cannot start {}: {}; generation {} serves on",
          trigger.label(),
          command,
          e.getMessage(),
          generation);
      return Launch.refused(
          UpgradeResult.SPAWN_FAILED, "cannot start " + command + ": " + e.getMessage());
    }
    started = child;
    log.info(
        "{}: started pid {}{} to take over as generation {}: {}",
        trigger.label(),
        child.pid(),
        detach ? " (detached: the service manager's child)" : "",
        generation + 1,
        String.join(" ", command));
    return new Launch(UpgradeResult.STARTED, child.pid(), "");
  }

  /** The next generation's process builder: stdio and environment as it must have them. */
  private static ProcessBuilder builder(List<String> command) {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            // Its log lines and its serving line go where ours go (the journal, the container log).
            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    SocketActivation.VARIABLES_FOR_THIS_PROCESS_ONLY.forEach(builder.environment()::remove);
    return builder;
  }

  /** The next generation as our child: its exit code is ours to read. */
  private ProcessHandle startChild(List<String> command, UpgradeTrigger trigger)
      throws IOException {
    Process child = builder(command).start();
    child
        .onExit()
        .thenAccept(
            p -> {
              if (p.exitValue() != 0) {
                log.warn(
                    "pid {} (started for {}) exited with {} without taking over; generation {}"
                        + " serves on (its log says why)",
                    p.pid(),
                    trigger.label(),
                    p.exitValue(),
                    generation);
              }
            });
    return child.toHandle();
  }

  /**
   * The next generation as the child of whoever reaps our orphans: a short-lived {@code sh} starts
   * it in the background (its only child, which we find by its parent) and exits when we close its
   * stdin; the kernel then re-parents the new generation to the nearest subreaper, under systemd
   * the service manager itself. systemd follows the new generation's {@code MAINPID=}, but a main
   * process that is not its own child is "alien" to it: it warns that it will "most likely not
   * notice when it exits", and on a stop it does not wait for it — in a container on cgroup v1 (no
   * cgroup-empty events) it sends SIGKILL right after SIGTERM, killing the drain (seen with systemd
   * 252).
   */
  private ProcessHandle startDetached(List<String> command, UpgradeTrigger trigger)
      throws IOException {
    List<String> shell =
        new ArrayList<>(List.of("/bin/sh", "-c", "\"$@\" </dev/null & read -r _", "sh"));
    shell.addAll(command);
    Process sh = builder(shell).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    try {
      long deadline = System.nanoTime() + DETACH_TIMEOUT.toNanos();
      ProcessHandle child = null;
      while (child == null && System.nanoTime() < deadline && sh.isAlive()) {
        child = sh.children().findFirst().orElse(null);
        if (child == null) {
          Thread.sleep(5);
        }
      }
      if (child == null) {
        throw new IOException(
            "the shell starting it (pid "
                + sh.pid()
                + ") showed no child within "
                + DETACH_TIMEOUT
                + (sh.isAlive() ? "" : " (it exited with " + sh.exitValue() + ")"));
      }
      ProcessHandle detached = child;
      detached
          .onExit()
          .thenAccept(
              p ->
                  log.info(
                      "pid {} (started for {}) exited; its exit code went to the service manager,"
                          + " its log says why",
                      p.pid(),
                      trigger.label()));
      return detached;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting it", e);
    } finally {
      sh.getOutputStream()
          .close(); // EOF for `read`: the shell exits, the new generation is orphaned
      try {
        if (!sh.waitFor(DETACH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          sh.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Under {@code baton launch}, every generation is the supervisor's child (so that it reaps them
   * and outlives them): SIGUSR2 asks it for the next one. The config was checked above already.
   */
  private Launch askSupervisor(
      UpgradeTrigger trigger, long pid, Path jar, Path config, boolean hold) {
    if (jar != null || !config.equals(configFile) || hold) {
      String detail =
          "another jar or config, or a hold, under baton launch (pid "
              + pid
              + "): not supported (expected the same paths: replace the jar or the config file in"
              + " place, then upgrade; for a hold, set handoff.hold in the config)";
      log.error("{}: {}", trigger.label(), detail);
      return Launch.refused(UpgradeResult.SPAWN_FAILED, detail);
    }
    try {
      // The shell's kill builtin: present wherever /bin/sh is, unlike a kill binary.
      Process kill =
          new ProcessBuilder("/bin/sh", "-c", "kill -USR2 \"$1\"", "sh", Long.toString(pid))
              .redirectErrorStream(true)
              .start();
      String output =
          new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IOException("kill -USR2 " + pid + ": " + output);
      }
    } catch (IOException e) {
      log.error(
          "{}: cannot ask the supervisor (pid {}) for the next generation: {}",
          trigger.label(),
          pid,
          e.getMessage());
      return Launch.refused(
          UpgradeResult.SPAWN_FAILED,
          "cannot signal the supervisor, pid " + pid + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Launch.refused(
          UpgradeResult.SPAWN_FAILED, "interrupted while signalling the supervisor");
    }
    log.info(
        "{}: asked the supervisor (pid {}) to start generation {}",
        trigger.label(),
        pid,
        generation + 1);
    return new Launch(UpgradeResult.STARTED, 0, "the supervisor, pid " + pid + ", starts it");
  }

  /**
   * This process's command line with the jar after {@code -jar} and the file after {@code --config}
   * replaced, and {@code --hold} as asked.
   */
  private List<String> commandFor(Path jar, Path config, boolean hold) {
    List<String> command = new ArrayList<>(commandLine);
    command.remove("--hold"); // this process's own hold is over: the next one is held only if asked
    if (hold) {
      command.add("--hold");
    }
    if (jar != null) {
      replaceValueOf(command, "-jar", jar.toAbsolutePath().toString());
    }
    if (!config.equals(configFile)) {
      replaceValueOf(command, "--config", config.toString());
    }
    return command;
  }

  private static void replaceValueOf(List<String> command, String option, String value) {
    int at = command.indexOf(option);
    if (at < 0 || at + 1 >= command.size()) {
      throw new IllegalArgumentException(
          "command line "
              + command
              + ": no "
              + option
              + " VALUE (expected one, to start the next generation with "
              + value
              + ")");
    }
    command.set(at + 1, value);
  }

  /** Why {@code config} cannot be handed to the next generation, or null if it can. */
  private String configProblem(Path config) {
    BatonConfig next;
    try {
      next = ConfigLoader.load(config);
    } catch (ConfigException e) {
      return config + " does not load: " + e.getMessage();
    }
    Path nextRunDir = next.runDir().toAbsolutePath().normalize();
    if (!nextRunDir.equals(runDir)) {
      return config
          + ": runDir: \""
          + nextRunDir
          + "\" (expected the running one, "
          + runDir
          + ": a reload hands over through it; start a separate Baton for another runDir)";
    }
    return null;
  }
}
