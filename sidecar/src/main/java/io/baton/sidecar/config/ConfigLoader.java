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
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and validates the YAML config. Unknown keys and bad values are errors naming the key path,
 * the value and what was expected, e.g. {@code drain.timeout: "30" (expected a duration such as
 * 30s)}. Every problem found is reported, not only the first.
 */
public final class ConfigLoader {

  public static final Path DEFAULT_RUN_DIR = Path.of("/run/baton");
  static final String DEFAULT_ADMIN = "127.0.0.1:9901";
  static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_STEP_TIMEOUT = Duration.ofSeconds(10);
  static final Duration DEFAULT_READY_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofHours(1);
  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(15);
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
  static final Duration DEFAULT_DISCOVERY_TIMEOUT = Duration.ofSeconds(3);

  /** The listener name the admin listener uses in a handoff; not allowed for data listeners. */
  public static final String ADMIN_LISTENER_NAME = "admin";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final List<String> problems = new ArrayList<>();

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
    if (!loader.problems.isEmpty()) {
      throw new ConfigException(
          "config " + source + ":\n  " + String.join("\n  ", loader.problems));
    }
    return config;
  }

  private BatonConfig root(JsonNode root) {
    if (!root.isObject()) {
      problem("(root)", root, "a mapping with runDir, admin, drain, handoff, listeners, clusters");
      return null;
    }
    onlyKeys("", root, Set.of("runDir", "admin", "drain", "handoff", "listeners", "clusters"));
    Path runDir = Path.of(text("runDir", root.get("runDir"), DEFAULT_RUN_DIR.toString()));
    if (!runDir.isAbsolute()) {
      problem("runDir", root.get("runDir"), "an absolute path");
    }

    JsonNode adminNode = section("admin", root.get("admin"));
    onlyKeys("admin.", adminNode, Set.of("address", "servingHeader"));
    HostPort adminAddress = hostPort("admin.address", adminNode.get("address"), DEFAULT_ADMIN);
    boolean servingHeader = bool("admin.servingHeader", adminNode.get("servingHeader"), false);

    JsonNode drainNode = section("drain", root.get("drain"));
    onlyKeys("drain.", drainNode, Set.of("timeout", "migrate", "http2GoawayDelay"));
    Duration drainTimeout =
        duration("drain.timeout", drainNode.get("timeout"), DEFAULT_DRAIN_TIMEOUT);
    boolean migrate = bool("drain.migrate", drainNode.get("migrate"), true);
    Duration goawayDelay =
        duration(
            "drain.http2GoawayDelay",
            drainNode.get("http2GoawayDelay"),
            DrainConfig.DEFAULT_HTTP2_GOAWAY_DELAY);

    JsonNode handoffNode = section("handoff", root.get("handoff"));
    onlyKeys(
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
        duration("handoff.stepTimeout", handoffNode.get("stepTimeout"), DEFAULT_STEP_TIMEOUT);
    Duration ready =
        duration("handoff.readyTimeout", handoffNode.get("readyTimeout"), DEFAULT_READY_TIMEOUT);
    boolean hold = bool("handoff.hold", handoffNode.get("hold"), false);
    Duration holdTimeout =
        duration("handoff.holdTimeout", handoffNode.get("holdTimeout"), DEFAULT_HOLD_TIMEOUT);
    int maxDraining =
        positiveInt(
            "handoff.maxDraining",
            handoffNode.get("maxDraining"),
            HandoffSettings.DEFAULT_MAX_DRAINING);
    int warmUpRequests =
        nonNegativeInt(
            "handoff.warmUpRequests",
            handoffNode.get("warmUpRequests"),
            HandoffConfig.DEFAULT_WARM_UP_REQUESTS);
    Duration warmUpTimeout =
        duration(
            "handoff.warmUpTimeout",
            handoffNode.get("warmUpTimeout"),
            HandoffConfig.DEFAULT_WARM_UP_TIMEOUT);

    List<ClusterConfig> clusters = clusters(root.get("clusters"));
    List<ListenerConfig> listeners = listeners(root.get("listeners"), clusters);

    return new BatonConfig(
        runDir,
        new AdminConfig(adminAddress, servingHeader),
        new DrainConfig(drainTimeout, migrate, goawayDelay),
        new HandoffConfig(
            step, ready, hold, holdTimeout, maxDraining, warmUpRequests, warmUpTimeout),
        listeners,
        clusters);
  }

  private List<ListenerConfig> listeners(JsonNode node, List<ClusterConfig> clusters) {
    Set<String> clusterNames = new LinkedHashSet<>();
    clusters.forEach(c -> clusterNames.add(c.name()));
    List<ListenerConfig> result = new ArrayList<>();
    if (node == null || node.isNull()) {
      return result;
    }
    if (!node.isArray()) {
      problem("listeners", node, "a list of listeners");
      return result;
    }
    Set<String> names = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "listeners[" + i + "]";
      JsonNode l = node.get(i);
      if (!l.isObject()) {
        problem(at, l, "a mapping with name, address, protocol, cluster");
        continue;
      }
      onlyKeys(at + ".", l, Set.of("name", "address", "protocol", "cluster", "tls"));
      String name = requiredName(at + ".name", l.get("name"));
      if (name != null && ADMIN_LISTENER_NAME.equals(name)) {
        problem(
            at + ".name",
            l.get("name"),
            "a name other than \"admin\", which the admin listener uses");
      } else if (name != null && !names.add(name)) {
        problem(at + ".name", l.get("name"), "a name no other listener has");
      }
      HostPort address = hostPort(at + ".address", l.get("address"), null);
      if (address != null && address.port() != 0 && !addresses.add(address.toString())) {
        problem(at + ".address", l.get("address"), "an address no other listener has");
      }
      ListenerProtocol protocol = protocol(at + ".protocol", l.get("protocol"));
      String cluster = requiredName(at + ".cluster", l.get("cluster"));
      if (cluster != null && !clusterNames.contains(cluster)) {
        problem(
            at + ".cluster",
            l.get("cluster"),
            "the name of a cluster under clusters: " + clusterNames);
      }
      Optional<ListenerTlsConfig> tls = listenerTls(at + ".tls", l.get("tls"));
      if (tls.isPresent() && protocol == ListenerProtocol.TCP) {
        problem(
            at + ".tls",
            l.get("tls"),
            "no tls on a tcp listener (it relays bytes; TLS is terminated on http listeners)");
      }
      if (protocol == ListenerProtocol.TCP && cluster != null) {
        // A TCP relay moves to the successor together with its upstream socket; a TLS upstream
        // connection's state is in this process's memory and cannot move with it.
        clusters.stream()
            .filter(c -> c.name().equals(cluster) && c.tls().isPresent())
            .findFirst()
            .ifPresent(
                c ->
                    problem(
                        at + ".cluster",
                        l.get("cluster"),
                        "a cluster without tls for a tcp listener (TLS to upstreams is for http"
                            + " listeners)"));
      }
      if (name != null && address != null && protocol != null && cluster != null) {
        result.add(new ListenerConfig(name, address, protocol, cluster, tls));
      }
    }
    return result;
  }

  private List<ClusterConfig> clusters(JsonNode node) {
    List<ClusterConfig> result = new ArrayList<>();
    if (node == null || node.isNull()) {
      return result;
    }
    if (!node.isArray()) {
      problem("clusters", node, "a list of clusters");
      return result;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "clusters[" + i + "]";
      JsonNode c = node.get(i);
      if (!c.isObject()) {
        problem(at, c, "a mapping with name and endpoints");
        continue;
      }
      onlyKeys(
          at + ".",
          c,
          Set.of(
              "name",
              "endpoints",
              "discovery",
              "protocol",
              "connectTimeout",
              "requestTimeout",
              "idleTimeout",
              "tls"));
      String name = requiredName(at + ".name", c.get("name"));
      if (name != null && !names.add(name)) {
        problem(at + ".name", c.get("name"), "a name no other cluster has");
      }
      List<HostPort> endpoints = new ArrayList<>();
      JsonNode eps = c.get("endpoints");
      if (eps == null || eps.isNull()) {
        // A cluster without endpoints is allowed: its requests get 503.
      } else if (!eps.isArray()) {
        problem(at + ".endpoints", eps, "a list of host:port");
      } else {
        for (int j = 0; j < eps.size(); j++) {
          HostPort hp = hostPort(at + ".endpoints[" + j + "]", eps.get(j), null);
          if (hp != null) {
            endpoints.add(hp);
          }
        }
      }
      Duration connect =
          duration(at + ".connectTimeout", c.get("connectTimeout"), DEFAULT_CONNECT_TIMEOUT);
      Duration request =
          duration(at + ".requestTimeout", c.get("requestTimeout"), DEFAULT_REQUEST_TIMEOUT);
      Duration idle = duration(at + ".idleTimeout", c.get("idleTimeout"), DEFAULT_IDLE_TIMEOUT);
      Optional<DiscoveryConfig> discovery = discovery(at + ".discovery", c.get("discovery"));
      UpstreamProtocol upstreamProtocol = upstreamProtocol(at + ".protocol", c.get("protocol"));
      if (discovery.isPresent() && !endpoints.isEmpty()) {
        problem(
            at + ".endpoints",
            eps,
            "no endpoints when the cluster has discovery: its members come from etcd");
      }
      Optional<ClusterTlsConfig> tls = clusterTls(at + ".tls", c.get("tls"));
      if (tls.isPresent() && upstreamProtocol == UpstreamProtocol.H2C) {
        problem(
            at + ".tls",
            c.get("tls"),
            "no tls with protocol h2c (h2c is cleartext HTTP/2; use protocol h2 for HTTP/2 to"
                + " members over TLS)");
      }
      if (tls.isEmpty() && upstreamProtocol == UpstreamProtocol.H2) {
        problem(
            at + ".protocol",
            c.get("protocol"),
            "tls settings: HTTP/2 to members over TLS; protocol h2c for cleartext HTTP/2");
      }
      if (name != null) {
        result.add(
            new ClusterConfig(
                name, endpoints, connect, request, idle, discovery, upstreamProtocol, tls));
      }
    }
    return result;
  }

  private Optional<DiscoveryConfig> discovery(String at, JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      problem(at, node, "a mapping with etcd, dumpPath, strongDependency");
      return Optional.empty();
    }
    onlyKeys(at + ".", node, Set.of("etcd", "dumpPath", "strongDependency"));
    JsonNode etcdNode = node.get("etcd");
    if (etcdNode == null || etcdNode.isNull()) {
      problems.add(at + ".etcd: missing (expected a mapping with endpoints and prefix)");
      return Optional.empty();
    }
    if (!etcdNode.isObject()) {
      problem(at + ".etcd", etcdNode, "a mapping with endpoints and prefix");
      return Optional.empty();
    }
    onlyKeys(at + ".etcd.", etcdNode, Set.of("endpoints", "prefix", "timeout"));
    List<HostPort> etcdEndpoints = new ArrayList<>();
    JsonNode eps = etcdNode.get("endpoints");
    if (eps == null || !eps.isArray() || eps.isEmpty()) {
      problem(
          at + ".etcd.endpoints", eps, "a list of etcd client addresses such as 127.0.0.1:2379");
    } else {
      for (int j = 0; j < eps.size(); j++) {
        HostPort hp = etcdEndpoint(at + ".etcd.endpoints[" + j + "]", eps.get(j));
        if (hp != null) {
          etcdEndpoints.add(hp);
        }
      }
    }
    String prefix = text(at + ".etcd.prefix", etcdNode.get("prefix"), null);
    if (prefix == null || prefix.isEmpty()) {
      problem(
          at + ".etcd.prefix",
          etcdNode.get("prefix"),
          "a key prefix such as /baton/clusters/backend/");
    }
    Duration timeout =
        duration(at + ".etcd.timeout", etcdNode.get("timeout"), DEFAULT_DISCOVERY_TIMEOUT);
    String dump = text(at + ".dumpPath", node.get("dumpPath"), null);
    Optional<Path> dumpPath = Optional.empty();
    if (dump != null) {
      if (!Path.of(dump).isAbsolute()) {
        problem(at + ".dumpPath", node.get("dumpPath"), "an absolute path");
      } else {
        dumpPath = Optional.of(Path.of(dump));
      }
    }
    boolean strong = bool(at + ".strongDependency", node.get("strongDependency"), false);
    if (prefix == null || prefix.isEmpty() || etcdEndpoints.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new DiscoveryConfig(
            new DiscoveryConfig.Etcd(etcdEndpoints, prefix, timeout), dumpPath, strong));
  }

  /**
   * {@code tls: {certificate, privateKey}}: both PEM files are read now, so a missing, unreadable
   * or broken file (or a key that is not the certificate's) stops start-up here, naming the file.
   */
  private Optional<ListenerTlsConfig> listenerTls(String at, JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      problem(at, node, "a mapping with certificate and privateKey");
      return Optional.empty();
    }
    onlyKeys(at + ".", node, Set.of("certificate", "privateKey"));
    Path certificate =
        absolutePath(at + ".certificate", node.get("certificate"), "a PEM certificate file");
    Path privateKey =
        absolutePath(at + ".privateKey", node.get("privateKey"), "a PEM private key file");
    List<X509Certificate> chain = null;
    PrivateKey key = null;
    if (certificate != null) {
      try {
        chain = PemFiles.certificates(certificate);
      } catch (PemFiles.PemException e) {
        problem(
            at + ".certificate",
            node.get("certificate"),
            "a readable PEM certificate file",
            e.getMessage());
      }
    }
    if (privateKey != null) {
      try {
        key = PemFiles.privateKey(privateKey);
      } catch (PemFiles.PemException e) {
        problem(
            at + ".privateKey",
            node.get("privateKey"),
            "a readable PEM private key file",
            e.getMessage());
      }
    }
    if (chain != null && key != null && !PemFiles.matches(key, chain.get(0))) {
      problem(
          at + ".privateKey",
          node.get("privateKey"),
          "the private key of the first certificate in " + certificate,
          "it belongs to another certificate");
    }
    if (certificate == null || privateKey == null) {
      return Optional.empty();
    }
    return Optional.of(new ListenerTlsConfig(certificate, privateKey));
  }

  /**
   * {@code tls: {trustedCertificates, serverName, insecureSkipVerify}}, all optional: {@code tls:
   * {}} is TLS checked against the JVM's trust store.
   */
  private Optional<ClusterTlsConfig> clusterTls(String at, JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      problem(
          at,
          node,
          "a mapping with trustedCertificates, serverName, insecureSkipVerify (each optional)");
      return Optional.empty();
    }
    onlyKeys(at + ".", node, Set.of("trustedCertificates", "serverName", "insecureSkipVerify"));
    Optional<Path> trusted = Optional.empty();
    if (node.get("trustedCertificates") != null && !node.get("trustedCertificates").isNull()) {
      Path file =
          absolutePath(
              at + ".trustedCertificates",
              node.get("trustedCertificates"),
              "a PEM file of CA certificates");
      if (file != null) {
        try {
          PemFiles.certificates(file);
          trusted = Optional.of(file);
        } catch (PemFiles.PemException e) {
          problem(
              at + ".trustedCertificates",
              node.get("trustedCertificates"),
              "a readable PEM certificate file",
              e.getMessage());
        }
      }
    }
    String serverName = text(at + ".serverName", node.get("serverName"), null);
    if (serverName != null
        && !serverName.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")) {
      problem(at + ".serverName", node.get("serverName"), "a DNS name such as backend.internal");
      serverName = null;
    }
    boolean insecure = bool(at + ".insecureSkipVerify", node.get("insecureSkipVerify"), false);
    if (insecure && node.get("trustedCertificates") != null) {
      problem(
          at + ".insecureSkipVerify",
          node.get("insecureSkipVerify"),
          "false when trustedCertificates is set (one says check against them, the other says check"
              + " nothing)");
    }
    return Optional.of(new ClusterTlsConfig(trusted, Optional.ofNullable(serverName), insecure));
  }

  private Path absolutePath(String key, JsonNode node, String what) {
    if (node == null || node.isNull()) {
      problems.add(key + ": missing (expected the absolute path of " + what + ")");
      return null;
    }
    if (!node.isTextual() || !Path.of(node.asText()).isAbsolute()) {
      problem(key, node, "the absolute path of " + what);
      return null;
    }
    return Path.of(node.asText());
  }

  /**
   * etcd's own tools write client URLs ({@code http://127.0.0.1:2379}); plain host:port is accepted
   * too.
   */
  private HostPort etcdEndpoint(String key, JsonNode node) {
    if (node == null || !node.isTextual()) {
      problem(key, node, "an etcd client address such as 127.0.0.1:2379 or http://127.0.0.1:2379");
      return null;
    }
    String text = node.asText();
    if (text.startsWith("https://")) {
      problem(key, node, "an http:// address (TLS to etcd is not supported)");
      return null;
    }
    String hostPort =
        text.startsWith("http://")
            ? text.substring("http://".length()).replaceAll("/+$", "")
            : text;
    try {
      return HostPort.parse(hostPort);
    } catch (IllegalArgumentException e) {
      problems.add(key + ": " + e.getMessage());
      return null;
    }
  }

  private JsonNode section(String key, JsonNode node) {
    if (node == null || node.isNull()) {
      return YAML.createObjectNode();
    }
    if (!node.isObject()) {
      problem(key, node, "a mapping");
      return YAML.createObjectNode();
    }
    return node;
  }

  private void onlyKeys(String prefix, JsonNode node, Set<String> allowed) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        problems.add(
            prefix
                + key
                + ": unknown key (expected one of: "
                + String.join(", ", new TreeSet<>(allowed))
                + ")");
      }
    }
  }

  private String text(String key, JsonNode node, String fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isTextual()) {
      problem(key, node, "a string");
      return fallback;
    }
    return node.asText();
  }

  private String requiredName(String key, JsonNode node) {
    if (node == null || node.isNull()) {
      problems.add(key + ": missing (expected a name such as web)");
      return null;
    }
    if (!node.isTextual() || !node.asText().matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
      problem(key, node, "a name of letters, digits, '.', '_' or '-'");
      return null;
    }
    return node.asText();
  }

  private boolean bool(String key, JsonNode node, boolean fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.isBoolean()) {
      problem(key, node, "true or false");
      return fallback;
    }
    return node.asBoolean();
  }

  private int positiveInt(String key, JsonNode node, int fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 1) {
      problem(key, node, "a whole number >= 1");
      return fallback;
    }
    return node.asInt();
  }

  private int nonNegativeInt(String key, JsonNode node, int fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    if (!node.canConvertToInt() || !node.isIntegralNumber() || node.asInt() < 0) {
      problem(key, node, "a whole number >= 0");
      return fallback;
    }
    return node.asInt();
  }

  private Duration duration(String key, JsonNode node, Duration fallback) {
    if (node == null || node.isNull()) {
      return fallback;
    }
    Duration d = node.isTextual() ? Durations.parseOrNull(node.asText()) : null;
    if (d == null || d.isZero()) {
      problem(key, node, "a duration such as 30s, 500ms, 2m");
      return fallback;
    }
    return d;
  }

  private HostPort hostPort(String key, JsonNode node, String fallback) {
    if (node == null || node.isNull()) {
      if (fallback == null) {
        problems.add(key + ": missing (expected host:port such as 127.0.0.1:8080)");
        return null;
      }
      return HostPort.parse(fallback);
    }
    if (!node.isTextual()) {
      problem(key, node, "host:port such as 127.0.0.1:8080");
      return null;
    }
    try {
      return HostPort.parse(node.asText());
    } catch (IllegalArgumentException e) {
      problems.add(key + ": " + e.getMessage());
      return null;
    }
  }

  private ListenerProtocol protocol(String key, JsonNode node) {
    String value = text(key, node, "http");
    for (ListenerProtocol p : ListenerProtocol.values()) {
      if (p.wireName().equals(value)) {
        return p;
      }
    }
    problem(key, node, "http or tcp");
    return null;
  }

  private UpstreamProtocol upstreamProtocol(String key, JsonNode node) {
    String value = text(key, node, UpstreamProtocol.HTTP1.wireName());
    for (UpstreamProtocol p : UpstreamProtocol.values()) {
      if (p.wireName().equals(value)) {
        return p;
      }
    }
    problem(key, node, "http1, h2c or h2");
    return UpstreamProtocol.HTTP1;
  }

  private void problem(String key, JsonNode value, String expected) {
    problems.add(key + ": " + shown(value) + " (expected " + expected + ")");
  }

  /** {@code key: "value" (expected ...): what is wrong with it}, for a value that names a file. */
  private void problem(String key, JsonNode value, String expected, String detail) {
    problems.add(key + ": " + shown(value) + " (expected " + expected + "): " + detail);
  }

  private static String shown(JsonNode value) {
    return value == null
        ? "missing"
        : value.isTextual() ? "\"" + value.asText() + "\"" : value.toString();
  }
}
