package io.baton.sidecar.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.baton.handoff.HandoffSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Reads and validates the YAML config: the top-level sections here, the lists in {@link
 * ClustersSection} and {@link ListenersSection}, typed values through {@link ConfigFields}. Unknown
 * keys and bad values are errors naming the key path, the value and what was expected, e.g. {@code
 * drain.timeout: "30" (expected a duration such as 30s)}. Every problem found is reported, not only
 * the first.
 */
public final class ConfigLoader {

  public static final Path DEFAULT_RUN_DIR = Path.of("/run/baton");
  static final String DEFAULT_ADMIN = "127.0.0.1:9901";
  static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_STEP_TIMEOUT = Duration.ofSeconds(10);
  static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofHours(1);

  /** The listener name the admin listener uses in a handoff; not allowed for data listeners. */
  public static final String ADMIN_LISTENER_NAME = "admin";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final ConfigFields fields = new ConfigFields();

  private ConfigLoader() {}

  public static BatonConfig load(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + ": does not exist");
    } catch (IOException e) {
      throw new ConfigException("config file " + file + ": cannot be read (" + e + ")", e);
    }
    return parse(text, file.toString());
  }

  public static BatonConfig parse(String yaml, String source) throws ConfigException {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          "config " + source + ": not valid YAML (" + e.getOriginalMessage() + ")", e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      throw new ConfigException(
          "config " + source + ": is empty (expected a mapping with listeners and clusters)");
    }
    ConfigLoader loader = new ConfigLoader();
    BatonConfig config = loader.root(root);
    List<String> problems = loader.fields.problems();
    if (!problems.isEmpty()) {
      throw new ConfigException("config " + source + ":\n  " + String.join("\n  ", problems));
    }
    return config;
  }

  private BatonConfig root(JsonNode root) {
    if (!root.isObject()) {
      fields.problem(
          "(root)", root, "a mapping with runDir, admin, drain, handoff, listeners, clusters");
      return null;
    }
    fields.onlyKeys(
        "", root, Set.of("runDir", "admin", "drain", "handoff", "listeners", "clusters"));
    Path runDir = Path.of(fields.text("runDir", root.get("runDir"), DEFAULT_RUN_DIR.toString()));
    if (!runDir.isAbsolute()) {
      fields.problem("runDir", root.get("runDir"), "an absolute path");
    }

    JsonNode adminNode = fields.section("admin", root.get("admin"));
    fields.onlyKeys("admin.", adminNode, Set.of("address", "servingHeader"));
    HostPort adminAddress =
        fields.hostPort("admin.address", adminNode.get("address"), DEFAULT_ADMIN);
    boolean servingHeader =
        fields.bool("admin.servingHeader", adminNode.get("servingHeader"), false);

    JsonNode drainNode = fields.section("drain", root.get("drain"));
    fields.onlyKeys("drain.", drainNode, Set.of("timeout", "migrate", "http2GoawayDelay"));
    Duration drainTimeout =
        fields.duration("drain.timeout", drainNode.get("timeout"), DEFAULT_DRAIN_TIMEOUT);
    boolean migrate = fields.bool("drain.migrate", drainNode.get("migrate"), true);
    Duration goawayDelay =
        fields.duration(
            "drain.http2GoawayDelay",
            drainNode.get("http2GoawayDelay"),
            DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY);

    JsonNode handoffNode = fields.section("handoff", root.get("handoff"));
    fields.onlyKeys(
        "handoff.",
        handoffNode,
        Set.of(
            "stepTimeout",
            "readyTimeout",
            "hold",
            "holdTimeout",
            "maxDraining",
            "warmUpRequests",
            "warmUpTimeout"));
    Duration step =
        fields.duration(
            "handoff.stepTimeout", handoffNode.get("stepTimeout"), DEFAULT_STEP_TIMEOUT);
    Duration ready =
        fields.duration(
            "handoff.readyTimeout", handoffNode.get("readyTimeout"), DEFAULT_READY_TIMEOUT);
    boolean hold = fields.bool("handoff.hold", handoffNode.get("hold"), false);
    Duration holdTimeout =
        fields.duration(
            "handoff.holdTimeout", handoffNode.get("holdTimeout"), DEFAULT_HOLD_TIMEOUT);
    int maxDraining =
        fields.positiveInt(
            "handoff.maxDraining",
            handoffNode.get("maxDraining"),
            HandoffSettings.DEFAULT_MAX_DRAINING);
    int warmUpRequests =
        fields.nonNegativeInt(
            "handoff.warmUpRequests",
            handoffNode.get("warmUpRequests"),
            HandoffConfig.DEFAULT_WARM_UP_REQUESTS);
    Duration warmUpTimeout =
        fields.duration(
            "handoff.warmUpTimeout",
            handoffNode.get("warmUpTimeout"),
            HandoffConfig.DEFAULT_WARM_UP_TIMEOUT);

    List<ClusterConfig> clusters = new ClustersSection(fields).read(root.get("clusters"));
    List<ListenerConfig> listeners =
        new ListenersSection(fields).read(root.get("listeners"), clusters);

    return new BatonConfig(
        runDir,
        new AdminConfig(adminAddress, servingHeader),
        new DrainConfig(drainTimeout, migrate, goawayDelay),
        new HandoffConfig(
            step, ready, hold, holdTimeout, maxDraining, warmUpRequests, warmUpTimeout),
        listeners,
        clusters);
  }
}
