package io.baton.sidecar.launch;

import io.baton.handoff.HandoffSettings;
import io.baton.sidecar.config.ConfigException;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.systemd.SocketActivation;
import io.baton.sidecar.upgrade.SignalTriggers;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs generations as children: the first at start, the next on SIGUSR2 or SIGHUP (sent by an
 * operator, or by the active generation on {@code baton upgrade} or its own SIGUSR2/SIGHUP); stops
 * them on SIGTERM/SIGINT. Everything happens on one thread, in the order events arrive.
 */
public final class Supervisor {

  /** Set in every generation's environment: where to ask for the next generation. */
  public static final String PID_VARIABLE = "BATON_SUPERVISOR_PID";

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

  private enum State {
    /** A generation runs (or more: one taking over, older ones draining). */
    RUNNING,
    /**
     * {@code --standby}: the last generation handed over to a process outside; waiting for SIGTERM.
     */
    STANDING_BY,
    /** SIGTERM/SIGINT was passed on; waiting for the generations to drain and exit. */
    STOPPING
  }

  private sealed interface Event {
    record NextGeneration(String why, boolean checkConfig) implements Event {}

    record Exited(Process generation) implements Event {}

    record Stop(String signal) implements Event {}
  }

  private final List<String> generationCommand;
  private final Path configFile;
  private final boolean standby;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final List<Process> running = new ArrayList<>();
  private State state = State.RUNNING;
  private Process newest;

  /**
   * @param generationCommand how to start a generation (java ... -jar JAR run --config FILE)
   * @param configFile the config file it reads, checked before a SIGHUP starts the next one
   * @param standby stay alive when the last generation handed over to a process outside
   */
  public Supervisor(List<String> generationCommand, Path configFile, boolean standby) {
    this.generationCommand = List.copyOf(generationCommand);
    this.configFile = configFile;
    this.standby = standby;
  }

  /** Runs until the generations are gone; returns the exit code of the last one. */
  public int run() {
    SignalTriggers.on("USR2", () -> events.add(new Event.NextGeneration("SIGUSR2", false)));
    SignalTriggers.on("HUP", () -> events.add(new Event.NextGeneration("SIGHUP", true)));
    SignalTriggers.on("TERM", () -> events.add(new Event.Stop("SIGTERM")));
    SignalTriggers.on("INT", () -> events.add(new Event.Stop("SIGINT")));
    log.info(
        "launch: supervising generations of `{}`{}",
        String.join(" ", generationCommand),
        standby ? " (standby)" : "");
    if (!start("the first generation")) {
      return 1;
    }
    while (true) {
      Event event;
      try {
        event = events.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        event = new Event.Stop("interrupt");
      }
      Integer exitCode = null;
      if (event instanceof Event.NextGeneration next) {
        nextGeneration(next);
      } else if (event instanceof Event.Exited exited) {
        exitCode = exited(exited.generation());
      } else if (event instanceof Event.Stop stop) {
        exitCode = stop(stop.signal());
      }
      if (exitCode != null) {
        log.info("launch: exits with {}", exitCode);
        return exitCode;
      }
    }
  }

  private void nextGeneration(Event.NextGeneration next) {
    if (state != State.RUNNING) {
      log.warn(
          "launch: {}: not starting a generation while {}", next.why(), state.name().toLowerCase());
      return;
    }
    int maxDraining = maxDraining();
    if (running.size() > maxDraining) {
      // The handoff would refuse it anyway (PREDECESSOR_DRAINING or HANDOFF_IN_PROGRESS): no JVM
      // for nothing.
      log.warn(
          "launch: {}: {} generations run (pids {}), as many as handoff.maxDraining {} draining"
              + " plus the active one allow: no other generation started",
          next.why(),
          running.size(),
          pids(),
          maxDraining);
      return;
    }
    if (next.checkConfig()) {
      try {
        ConfigLoader.load(configFile);
      } catch (ConfigException e) {
        log.error(
            "launch: {}: {} does not load: {}; nothing changes",
            next.why(),
            configFile,
            e.getMessage());
        return;
      }
    }
    start("the next generation, for " + next.why());
  }

  /**
   * The config's handoff.maxDraining; the default if the file does not load (a SIGHUP checks it
   * first).
   */
  private int maxDraining() {
    try {
      return ConfigLoader.load(configFile).handoff().maxDraining();
    } catch (ConfigException e) {
      return HandoffSettings.DEFAULT_MAX_DRAINING;
    }
  }

  private boolean start(String what) {
    ProcessBuilder builder =
        new ProcessBuilder(generationCommand)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.INHERIT)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    builder.environment().put(PID_VARIABLE, Long.toString(ProcessHandle.current().pid()));
    // Sockets systemd activated were meant for this process, not its children.
    SocketActivation.VARIABLES_FOR_THIS_PROCESS_ONLY.forEach(builder.environment()::remove);
    try {
      Process generation = builder.start();
      running.add(generation);
      newest = generation;
      generation.onExit().thenAccept(p -> events.add(new Event.Exited(p)));
      log.info("launch: started {} as pid {}", what, generation.pid());
      return true;
    } catch (IOException e) {
      log.error("launch: cannot start {}: {}", what, e.getMessage());
      return false;
    }
  }

  /**
   * A generation exited (and was reaped by the JDK); returns the exit code when nothing runs any
   * more.
   */
  private Integer exited(Process generation) {
    running.remove(generation);
    int code = generation.exitValue();
    log.info(
        "launch: pid {} exited with {}{}",
        generation.pid(),
        code,
        running.isEmpty() ? "" : "; still running: " + pids());
    if (!running.isEmpty()) {
      return null;
    }
    if (state == State.RUNNING && standby && code == 0) {
      state = State.STANDING_BY;
      log.info(
          "launch: its generation handed over to a process outside this one: standing by until"
              + " SIGTERM");
      return null;
    }
    return newest.exitValue();
  }

  private Integer stop(String signal) {
    if (running.isEmpty()) {
      return state == State.STANDING_BY ? 0 : newest.exitValue();
    }
    state = State.STOPPING;
    log.info("launch: {}: passing it on to pids {} and waiting for them to drain", signal, pids());
    running.forEach(p -> p.toHandle().destroy()); // SIGTERM: each generation drains and exits
    return null;
  }

  private List<Long> pids() {
    return running.stream().map(Process::pid).toList();
  }
}
