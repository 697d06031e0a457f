package io.baton.sidecar.upgrade;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The signals an operator of nginx knows: {@code SIGUSR2} starts the next generation from the same
 * command line, {@code SIGHUP} the same after checking the config, {@code SIGWINCH} commits a held
 * successor (it takes over, this process drains), {@code SIGTERM} and {@code SIGINT} drain and
 * stop. {@code SIGQUIT} stays the JVM's thread dump.
 *
 * <p>Handling TERM here rather than in a shutdown hook is what lets the process exit 0 after its
 * drain: the JVM's own TERM handling always exits 143.
 */
public final class SignalTriggers {

  private static final Logger log = LoggerFactory.getLogger(SignalTriggers.class);

  /** What the signals act on. */
  public interface Target {
    void nextGeneration(UpgradeTrigger trigger);

    void commitHeldSuccessor(String why);

    /** Drains and stops; called on a thread of its own (it blocks until the drain ends). */
    void stop(String why);
  }

  private SignalTriggers() {}

  /** Installs the handlers; from now on these signals no longer end the JVM by themselves. */
  public static void install(Target target) {
    on("USR2", () -> target.nextGeneration(UpgradeTrigger.SIGUSR2));
    on("HUP", () -> target.nextGeneration(UpgradeTrigger.SIGHUP));
    on("WINCH", () -> target.commitHeldSuccessor("SIGWINCH"));
    for (String name : new String[] {"TERM", "INT"}) {
      on(
          name,
          () ->
              new Thread(() -> target.stop("SIG" + name), "baton-stop-on-sig" + name.toLowerCase())
                  .start());
    }
  }

  /**
   * Runs {@code action} on signal {@code name} (e.g. "USR2"), logged; if the JVM or the OS keeps
   * that signal (e.g. -Xrs), says so and leaves its default action.
   */
  public static void on(String name, Runnable action) {
    try {
      Signal.handle(
          new Signal(name),
          signal -> {
            log.info("SIG{} received", name);
            try {
              action.run();
            } catch (RuntimeException e) {
              log.error("SIG{}: {}", name, e.toString(), e);
            }
          });
    } catch (IllegalArgumentException e) {
      // Taken by the JVM or the OS (e.g. -Xrs): it keeps its default action.
      log.warn(
          "SIG{} cannot be handled here ({}): it keeps its default action", name, e.getMessage());
    }
  }
}
