package io.baton.sidecar.cli;

import io.baton.proto.admin.v1.StatusReply;
import io.baton.proto.admin.v1.UpgradeReply;
import io.baton.sidecar.adminrpc.AdminClient;
import io.baton.sidecar.adminrpc.AdminUnavailableException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code baton upgrade}: the active process starts the next generation, which takes over. */
@Command(
    name = "upgrade",
    mixinStandardHelpOptions = true,
    description = {
      "Make the active Baton start the next generation (its own command line, or another jar or"
          + " --config);",
      "the new process takes over the listeners and connections, the old one drains and exits.",
      "Returns once the new process is started (with --wait: once it serves); `baton watch` follows"
          + " the handoff."
    })
final class UpgradeCommand implements Callable<Integer> {

  /** How often --wait asks admin.sock who serves. */
  private static final Duration POLL = Duration.ofMillis(100);

  @Spec CommandSpec spec;

  @Mixin AdminCall call;

  @Option(
      names = "--jar",
      paramLabel = "PATH",
      description = "The jar the next generation runs (default: the running one).")
  Path jar;

  @Option(
      names = "--hold",
      description =
          "Hold the new generation after Ready: both accept until `baton commit` or `baton abort`.")
  boolean hold;

  @Option(
      names = "--wait",
      description = {
        "Return only once the new generation serves (exit 0); exit 1 if it ends without taking"
            + " over, or does",
        "not serve within --wait-timeout (the old one then serves on). What `systemctl reload`"
            + " runs: the reload",
        "job ends when the handoff does, and fails when it fails."
      })
  boolean await;

  @Option(
      names = "--wait-timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description =
          "With --wait: the longest wait for the new generation to serve, in seconds (default:"
              + " ${DEFAULT-VALUE}).")
  long waitTimeoutSeconds;

  /** What the active process said before and to the upgrade request. */
  private record Asked(StatusReply before, UpgradeReply reply) {}

  @Override
  public Integer call() {
    if (await && hold) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--wait with --hold: not supported (a held generation serves beside the old one until"
              + " `baton commit`)");
    }
    String jarPath = jar == null ? "" : jar.toAbsolutePath().toString();
    // --config names the config the next generation reads (checked before anything starts), and
    // with it the run directory; without it, the running config.
    String configPath = call.config == null ? "" : call.config.toAbsolutePath().toString();
    Asked asked =
        call.ask(
                "upgrade",
                client ->
                    new Asked(
                        await ? client.status() : null, client.upgrade(jarPath, configPath, hold)))
            .orElse(null);
    if (asked == null) {
      return ExitCodes.UNAVAILABLE;
    }
    UpgradeReply reply = asked.reply();
    boolean started = "started".equals(reply.getResult());
    if (call.json()) {
      System.out.println(AdminCall.json(reply));
    } else if (started) {
      System.out.println(
          reply.getPid() == 0
              ? reply.getDetail()
              : "started pid "
                  + reply.getPid()
                  + " as the next generation"
                  + (hold ? ", held after Ready" : ""));
    } else {
      System.err.println("baton upgrade: " + reply.getResult() + ": " + reply.getDetail());
    }
    if (!started) {
      return ExitCodes.REFUSED;
    }
    return await ? awaitServing(asked.before(), reply.getPid()) : ExitCodes.OK;
  }

  /**
   * Asks admin.sock until a newer generation than {@code before} answers as SERVING. A new
   * connection each time: the socket file passes to the new generation when it serves, while a kept
   * connection would stay with the old one until it stops. Gives up when the started process has
   * exited without serving, or at the deadline. The exit is seen only where its {@code pid} is (the
   * same pid namespace, as under systemd); elsewhere (a pod's other container, or 0: started by
   * {@code baton launch}) only the deadline ends a wait for a generation that failed.
   */
  private int awaitServing(StatusReply before, long pid) {
    long deadline = System.nanoTime() + Duration.ofSeconds(waitTimeoutSeconds).toNanos();
    Optional<ProcessHandle> started = pid == 0 ? Optional.empty() : ProcessHandle.of(pid);
    String last = "nothing asked yet";
    while (true) {
      // Read before asking: a process that exited before an answer without it did not take over.
      boolean exited = started.map(h -> !h.isAlive()).orElse(false);
      try (AdminClient client = call.connect()) {
        StatusReply now = client.status();
        if (now.getGeneration() > before.getGeneration() && "SERVING".equals(now.getPhase())) {
          System.out.println(
              "generation " + now.getGeneration() + " (pid " + now.getPid() + ") serves");
          return ExitCodes.OK;
        }
        last =
            "generation "
                + now.getGeneration()
                + " (pid "
                + now.getPid()
                + ") is "
                + now.getPhase();
      } catch (AdminUnavailableException e) {
        last = e.getMessage(); // admin.sock changing hands: ask again
      }
      if (exited) {
        System.err.println(
            "baton upgrade: pid "
                + pid
                + " exited without taking over (its log says why); "
                + last);
        return ExitCodes.CANNOT_START;
      }
      if (System.nanoTime() > deadline) {
        System.err.println(
            "baton upgrade: generation "
                + (before.getGeneration() + 1)
                + " does not serve after "
                + waitTimeoutSeconds
                + " s (expected it within --wait-timeout); "
                + last);
        return ExitCodes.CANNOT_START;
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return ExitCodes.CANNOT_START;
      }
    }
  }
}
