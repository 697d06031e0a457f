package io.baton.sidecar.upgrade;

import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigException;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.metrics.BatonMetrics;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the next generation as a child process running this process's own command line. The
 * child finds this process through the run directory and takes over as any new process would; it
 * outlives this one, which exits after its drain.
 */
public final class NextGenerationLauncher {

  private static final Logger log = LoggerFactory.getLogger(NextGenerationLauncher.class);

  /**
   * systemd's socket activation names fds 3.. of this process only; a child that inherited these
   * variables (and no such fds) would take unrelated fds for listeners.
   */
  private static final List<String> NOT_INHERITED = List.of("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES");

  private final List<String> commandLine;
  private final Path configFile;
  private final Path runDir;
  private final long generation;
  private final BooleanSupplier serving;
  private final BatonMetrics metrics;
  /** The last generation started from here; guarded by {@code this}. */
  private Process started;

  /**
   * @param commandLine what to run, usually {@link #ownCommandLine()}
   * @param serving whether this process is the active one, not taking over or draining
   */
  public NextGenerationLauncher(List<String> commandLine, Path configFile, Path runDir, long generation, BooleanSupplier serving,
      BatonMetrics metrics) {
    if (commandLine.isEmpty()) {
      throw new IllegalArgumentException("commandLine: [] (expected the program and its arguments)");
    }
    this.commandLine = List.copyOf(commandLine);
    this.configFile = configFile;
    this.runDir = runDir.toAbsolutePath().normalize();
    this.generation = generation;
    this.serving = serving;
    this.metrics = metrics;
  }

  /** This process's command line (java, its options, -jar, the jar, run --config FILE), as the kernel has it. */
  public static List<String> ownCommandLine() {
    ProcessHandle.Info info = ProcessHandle.current().info();
    String program = info.command().orElseThrow(() -> new IllegalStateException(
        "own command line: not readable from /proc/self (expected it, to start the next generation the same way)"));
    List<String> line = new ArrayList<>();
    line.add(program);
    line.addAll(List.of(info.arguments().orElse(new String[0])));
    return line;
  }

  /** Starts the next generation unless {@code trigger} must be refused; logs and counts either way. */
  public synchronized UpgradeResult launch(UpgradeTrigger trigger) {
    UpgradeResult result = tryLaunch(trigger);
    metrics.upgradeRequested(trigger.label(), result.label());
    return result;
  }

  private UpgradeResult tryLaunch(UpgradeTrigger trigger) {
    if (!serving.getAsBoolean()) {
      log.warn("{}: generation {} is not the serving one (a handoff is under way, or it stops): no new generation started",
          trigger.label(), generation);
      return UpgradeResult.BUSY;
    }
    if (started != null && started.isAlive()) {
      log.warn("{}: generation {} (pid {}) is still taking over: no other one started", trigger.label(), generation + 1,
          started.pid());
      return UpgradeResult.BUSY;
    }
    if (trigger.checksConfigFirst()) {
      String problem = configProblem();
      if (problem != null) {
        log.error("{}: {}; nothing changes, generation {} serves on", trigger.label(), problem, generation);
        return UpgradeResult.INVALID_CONFIG;
      }
    }
    ProcessBuilder builder = new ProcessBuilder(commandLine)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        // Its log lines and its serving line go where ours go (the journal, the container log).
        .redirectOutput(ProcessBuilder.Redirect.INHERIT)
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    NOT_INHERITED.forEach(builder.environment()::remove);
    Process child;
    try {
      child = builder.start();
    } catch (IOException e) {
      log.error("{}: cannot start {}: {}; generation {} serves on", trigger.label(), commandLine, e.getMessage(), generation);
      return UpgradeResult.SPAWN_FAILED;
    }
    started = child;
    log.info("{}: started pid {} to take over as generation {}: {}", trigger.label(), child.pid(), generation + 1,
        String.join(" ", commandLine));
    child.onExit().thenAccept(p -> {
      if (p.exitValue() != 0) {
        log.warn("pid {} (started for {}) exited with {} without taking over; generation {} serves on (its log says why)",
            p.pid(), trigger.label(), p.exitValue(), generation);
      }
    });
    return UpgradeResult.STARTED;
  }

  /** Why the config file cannot be handed to the next generation, or null if it can. */
  private String configProblem() {
    BatonConfig next;
    try {
      next = ConfigLoader.load(configFile);
    } catch (ConfigException e) {
      return configFile + " does not load: " + e.getMessage();
    }
    Path nextRunDir = next.runDir().toAbsolutePath().normalize();
    if (!nextRunDir.equals(runDir)) {
      return configFile + ": runDir: \"" + nextRunDir + "\" (expected the running one, " + runDir
          + ": a reload hands over through it; start a separate Baton for another runDir)";
    }
    return null;
  }
}
