package io.baton.sidecar.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The {@code clusters} list: each cluster's members, timeouts, upstream protocol and TLS. */
final class ClustersSection {

  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(15);
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

  private static final Set<String> KEYS =
      Set.of(
          "name",
          "endpoints",
          "discovery",
          "protocol",
          "connectTimeout",
          "requestTimeout",
          "idleTimeout",
          "tls");

  private final ConfigFields fields;
  private final DiscoverySection discovery;
  private final TlsSections tls;

  ClustersSection(ConfigFields fields) {
    this.fields = fields;
    this.discovery = new DiscoverySection(fields);
    this.tls = new TlsSections(fields);
  }

  List<ClusterConfig> read(JsonNode node) {
    List<ClusterConfig> result = new ArrayList<>();
    if (node == null || node.isNull()) {
      return result;
    }
    if (!node.isArray()) {
      fields.problem("clusters", node, "a list of clusters");
      return result;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "clusters[" + i + "]";
      JsonNode c = node.get(i);
      if (!c.isObject()) {
        fields.problem(at, c, "a mapping with name and endpoints");
        continue;
      }
      cluster(at, c, names).ifPresent(result::add);
    }
    return result;
  }

  private Optional<ClusterConfig> cluster(String at, JsonNode c, Set<String> names) {
    fields.onlyKeys(at + ".", c, KEYS);
    String name = fields.requiredName(at + ".name", c.get("name"));
    if (name != null && !names.add(name)) {
      fields.problem(at + ".name", c.get("name"), "a name no other cluster has");
    }
    JsonNode eps = c.get("endpoints");
    List<HostPort> endpoints = endpoints(at + ".endpoints", eps);
    Duration connect =
        fields.duration(at + ".connectTimeout", c.get("connectTimeout"), DEFAULT_CONNECT_TIMEOUT);
    Duration request =
        fields.duration(at + ".requestTimeout", c.get("requestTimeout"), DEFAULT_REQUEST_TIMEOUT);
    Duration idle =
        fields.duration(at + ".idleTimeout", c.get("idleTimeout"), DEFAULT_IDLE_TIMEOUT);
    Optional<DiscoveryConfig> members = discovery.read(at + ".discovery", c.get("discovery"));
    UpstreamProtocol protocol = upstreamProtocol(at + ".protocol", c.get("protocol"));
    if (members.isPresent() && !endpoints.isEmpty()) {
      fields.problem(
          at + ".endpoints",
          eps,
          "no endpoints when the cluster has discovery: its members come from etcd");
    }
    Optional<ClusterTlsConfig> clusterTls = tls.cluster(at + ".tls", c.get("tls"));
    if (clusterTls.isPresent() && protocol == UpstreamProtocol.H2C) {
      fields.problem(
          at + ".tls",
          c.get("tls"),
          "no tls with protocol h2c (h2c is cleartext HTTP/2; use protocol h2 for HTTP/2 to"
              + " members over TLS)");
    }
    if (clusterTls.isEmpty() && protocol == UpstreamProtocol.H2) {
      fields.problem(
          at + ".protocol",
          c.get("protocol"),
          "tls settings: HTTP/2 to members over TLS; protocol h2c for cleartext HTTP/2");
    }
    if (name == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ClusterConfig(name, endpoints, connect, request, idle, members, protocol, clusterTls));
  }

  /** A cluster without endpoints is allowed: its requests get 503 (or its members come later). */
  private List<HostPort> endpoints(String at, JsonNode eps) {
    List<HostPort> endpoints = new ArrayList<>();
    if (eps == null || eps.isNull()) {
      return endpoints;
    }
    if (!eps.isArray()) {
      fields.problem(at, eps, "a list of host:port");
      return endpoints;
    }
    for (int j = 0; j < eps.size(); j++) {
      HostPort hp = fields.hostPort(at + "[" + j + "]", eps.get(j), null);
      if (hp != null) {
        endpoints.add(hp);
      }
    }
    return endpoints;
  }

  private UpstreamProtocol upstreamProtocol(String key, JsonNode node) {
    String value = fields.text(key, node, UpstreamProtocol.HTTP1.wireName());
    for (UpstreamProtocol p : UpstreamProtocol.values()) {
      if (p.wireName().equals(value)) {
        return p;
      }
    }
    fields.problem(key, node, "http1, h2c or h2");
    return UpstreamProtocol.HTTP1;
  }
}
