package io.baton.sidecar.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A cluster's {@code discovery} mapping: where its members come from (etcd) and their dump. */
final class DiscoverySection {

  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

  private final ConfigFields fields;

  DiscoverySection(ConfigFields fields) {
    this.fields = fields;
  }

  Optional<DiscoveryConfig> read(String at, JsonNode node) {
    if (node == null || node.isNull()) {
      return Optional.empty();
    }
    if (!node.isObject()) {
      fields.problem(at, node, "a mapping with etcd, dumpPath, strongDependency");
      return Optional.empty();
    }
    fields.onlyKeys(at + ".", node, Set.of("etcd", "dumpPath", "strongDependency"));
    JsonNode etcdNode = node.get("etcd");
    if (etcdNode == null || etcdNode.isNull()) {
      fields.missing(at + ".etcd", "a mapping with endpoints and prefix");
      return Optional.empty();
    }
    if (!etcdNode.isObject()) {
      fields.problem(at + ".etcd", etcdNode, "a mapping with endpoints and prefix");
      return Optional.empty();
    }
    fields.onlyKeys(at + ".etcd.", etcdNode, Set.of("endpoints", "prefix", "timeout"));
    List<HostPort> etcdEndpoints = new ArrayList<>();
    JsonNode eps = etcdNode.get("endpoints");
    if (eps == null || !eps.isArray() || eps.isEmpty()) {
      fields.problem(
          at + ".etcd.endpoints", eps, "a list of etcd client addresses such as 127.0.0.1:2379");
    } else {
      for (int j = 0; j < eps.size(); j++) {
        HostPort hp = etcdEndpoint(at + ".etcd.endpoints[" + j + "]", eps.get(j));
        if (hp != null) {
          etcdEndpoints.add(hp);
        }
      }
    }
    String prefix = fields.text(at + ".etcd.prefix", etcdNode.get("prefix"), null);
    if (prefix == null || prefix.isEmpty()) {
      fields.problem(
          at + ".etcd.prefix",
          etcdNode.get("prefix"),
          "a key prefix such as /baton/clusters/backend/");
    }
    Duration timeout =
        fields.duration(at + ".etcd.timeout", etcdNode.get("timeout"), DEFAULT_TIMEOUT);
    Optional<Path> dumpPath = dumpPath(at + ".dumpPath", node.get("dumpPath"));
    boolean strong = fields.bool(at + ".strongDependency", node.get("strongDependency"), false);
    if (prefix == null || prefix.isEmpty() || etcdEndpoints.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new DiscoveryConfig(
            new DiscoveryConfig.Etcd(etcdEndpoints, prefix, timeout), dumpPath, strong));
  }

  private Optional<Path> dumpPath(String key, JsonNode node) {
    String dump = fields.text(key, node, null);
    if (dump == null) {
      return Optional.empty();
    }
    if (!Path.of(dump).isAbsolute()) {
      fields.problem(key, node, "an absolute path");
      return Optional.empty();
    }
    return Optional.of(Path.of(dump));
  }

  /**
   * etcd's own tools write client URLs ({@code http://127.0.0.1:2379}); plain host:port is accepted
   * too.
   */
  private HostPort etcdEndpoint(String key, JsonNode node) {
    if (node == null || !node.isTextual()) {
      fields.problem(
          key, node, "an etcd client address such as 127.0.0.1:2379 or http://127.0.0.1:2379");
      return null;
    }
    String text = node.asText();
    if (text.startsWith("https://")) {
      fields.problem(key, node, "an http:// address (TLS to etcd is not supported)");
      return null;
    }
    String hostPort =
        text.startsWith("http://")
            ? text.substring("http://".length()).replaceAll("/+$", "")
            : text;
    return fields.parsedHostPort(key, hostPort);
  }
}
