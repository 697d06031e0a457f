package io.baton.sidecar.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.baton.sidecar.adminrpc.AdminClient;
import io.baton.sidecar.adminrpc.AdminUnavailableException;
import io.baton.sidecar.config.ConfigException;
import io.baton.sidecar.config.ConfigLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/** What every command that talks to admin.sock takes: where the run directory is, how to print. */
final class AdminCall {

  /** Where Baton's packages put it; the config's {@code runDir} default. */
  static final Path DEFAULT_RUN_DIR = Path.of("/run/baton");

  enum Output {
    text,
    json
  }

  @Option(
      names = "--run-dir",
      paramLabel = "DIR",
      description =
          "The run directory of the Baton to talk to (default: runDir of --config, else"
              + " /run/baton).")
  Path runDir;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "A config file: its runDir is where to find Baton; for upgrade, also the config the next"
              + " generation reads.")
  Path config;

  @Option(
      names = "--output",
      paramLabel = "FORMAT",
      defaultValue = "text",
      description =
          "text (for people) or json (for scripts: the admin API's messages, one JSON object per"
              + " line).")
  Output output;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description = "Longest wait for an answer, in seconds (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  AdminClient connect() {
    return AdminClient.connect(runDir(), Duration.ofSeconds(timeoutSeconds));
  }

  /**
   * One call of {@code command} to the active process: its answer, or empty when no active Baton
   * answers (the reason printed on stderr; exit with {@link ExitCodes#UNAVAILABLE}).
   */
  <T> Optional<T> ask(String command, Function<AdminClient, T> rpc) {
    try (AdminClient client = connect()) {
      return Optional.of(rpc.apply(client));
    } catch (AdminUnavailableException e) {
      System.err.println("baton " + command + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  Path runDir() {
    if (runDir != null) {
      return runDir;
    }
    if (config != null) {
      try {
        return ConfigLoader.load(config).runDir();
      } catch (ConfigException e) {
        throw new IllegalArgumentException("--config " + config + ": " + e.getMessage(), e);
      }
    }
    return DEFAULT_RUN_DIR;
  }

  boolean json() {
    return output == Output.json;
  }

  static String json(MessageOrBuilder message) {
    try {
      return JsonFormat.printer()
          .preservingProtoFieldNames()
          .omittingInsignificantWhitespace()
          .print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("admin API message as JSON: " + e.getMessage(), e);
    }
  }
}
