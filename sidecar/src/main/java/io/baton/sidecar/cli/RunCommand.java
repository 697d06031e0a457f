package io.baton.sidecar.cli;

import io.baton.handoff.HandoffSettings;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigException;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.launch.Supervisor;
import io.baton.sidecar.server.SidecarServer;
import io.baton.sidecar.server.StartupException;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import io.baton.sidecar.upgrade.SignalTriggers;
import io.baton.sidecar.upgrade.UpgradeTrigger;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Starts a generation: a cold start, or a handoff if an active process owns the run directory.
 * Prints one {@code baton serving ...} line on stdout once it serves; exits 0 after handing over to
 * a successor or draining on SIGTERM/SIGINT; SIGUSR2 and SIGHUP start the next generation.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Start a generation (takes over from the active process of the same runDir, if any).")
final class RunCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "The YAML config file.")
  Path config;

  @Option(
      names = "--hold",
      description = {
        "Taking over: after Ready, hold (as after nginx's USR2): both generations accept",
        "until `baton commit` / SIGWINCH to the old one (it drains) or `baton abort` / SIGTERM to"
            + " this one (this one drains",
        "and exits). Same as handoff.hold: true."
      })
  boolean hold;

  /** Set by {@code baton launch} in the environment of the generations it starts. */
  private static OptionalLong supervisor() {
    String pid = System.getenv(Supervisor.PID_VARIABLE);
    if (pid == null || pid.isBlank()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(pid.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          Supervisor.PID_VARIABLE + ": \"" + pid + "\" (expected the pid of baton launch)");
    }
  }

  @Override
  public Integer call() {
    BatonConfig cfg;
    try {
      cfg = ConfigLoader.load(config);
    } catch (ConfigException e) {
      System.err.println("baton: " + e.getMessage());
      return ExitCodes.BAD_CONFIG;
    }
    SidecarServer server;
    try {
      HandoffSettings.Hold holdSettings =
          new HandoffSettings.Hold(hold || cfg.handoff().hold(), cfg.handoff().holdTimeout());
      HandoffSettings settings =
          new HandoffSettings(
              cfg.runDir(),
              cfg.handoff().stepTimeout(),
              cfg.handoff().readyTimeout(),
              BuildInfo.version(),
              TestPausePoint.fromEnvironment(),
              holdSettings,
              cfg.handoff().maxDraining());
      server =
          SidecarServer.create(
              cfg,
              settings,
              new SidecarServer.Invocation(
                  config, NextGenerationLauncher.ownCommandLine(), supervisor()));
      // Before start: a held takeover blocks in start, and SIGTERM must then give it up, not kill
      // it.
      SidecarServer starting = server;
      SignalTriggers.install(
          new SignalTriggers.Target() {
            @Override
            public void nextGeneration(UpgradeTrigger trigger) {
              starting.requestNextGeneration(trigger);
            }

            @Override
            public void commitHeldSuccessor(String why) {
              starting.commitHeldSuccessor(why);
            }

            @Override
            public void stop(String why) {
              if (!starting.shutdownGracefully(why)) {
                System.exit(ExitCodes.STOPPED_WHILE_STARTING);
              }
            }
          });
      server.start(System.out);
    } catch (StartupException | IllegalArgumentException | IllegalStateException e) {
      log.error("cannot start: {}", e.getMessage());
      System.err.println("baton: cannot start: " + e.getMessage());
      return ExitCodes.CANNOT_START;
    }
    int code = server.awaitExit();
    log.info("generation {} exits with {}", server.generation(), code);
    return code;
  }
}
