package io.baton.sidecar.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code listeners} list, checked against the clusters already read: each listener names a
 * cluster that exists, and what a TCP relay can carry through a handoff limits its TLS.
 */
final class ListenersSection {

  private final ConfigFields fields;
  private final TlsSections tls;

  ListenersSection(ConfigFields fields) {
    this.fields = fields;
    this.tls = new TlsSections(fields);
  }

  List<ListenerConfig> read(JsonNode node, List<ClusterConfig> clusters) {
    List<ListenerConfig> result = new ArrayList<>();
    if (node == null || node.isNull()) {
      return result;
    }
    if (!node.isArray()) {
      fields.problem("listeners", node, "a list of listeners");
      return result;
    }
    Set<String> names = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      String at = "listeners[" + i + "]";
      JsonNode l = node.get(i);
      if (!l.isObject()) {
        fields.problem(at, l, "a mapping with name, address, protocol, cluster");
        continue;
      }
      listener(at, l, clusters, names, addresses).ifPresent(result::add);
    }
    return result;
  }

  private Optional<ListenerConfig> listener(
      String at,
      JsonNode l,
      List<ClusterConfig> clusters,
      Set<String> names,
      Set<String> addresses) {
    fields.onlyKeys(
        at + ".", l, Set.of("name", "address", "protocol", "cluster", "tls", "maxConnections"));
    String name = fields.requiredName(at + ".name", l.get("name"));
    if (name != null && ConfigLoader.ADMIN_LISTENER_NAME.equals(name)) {
      fields.problem(
          at + ".name",
          l.get("name"),
          "a name other than \"admin\", which the admin listener uses");
    } else if (name != null && !names.add(name)) {
      fields.problem(at + ".name", l.get("name"), "a name no other listener has");
    }
    HostPort address = fields.hostPort(at + ".address", l.get("address"), null);
    if (address != null && address.port() != 0 && !addresses.add(address.toString())) {
      fields.problem(at + ".address", l.get("address"), "an address no other listener has");
    }
    ListenerProtocol protocol = protocol(at + ".protocol", l.get("protocol"));
    String cluster = fields.requiredName(at + ".cluster", l.get("cluster"));
    Set<String> clusterNames = new LinkedHashSet<>();
    clusters.forEach(c -> clusterNames.add(c.name()));
    if (cluster != null && !clusterNames.contains(cluster)) {
      fields.problem(
          at + ".cluster",
          l.get("cluster"),
          "the name of a cluster under clusters: " + clusterNames);
    }
    Optional<ListenerTlsConfig> listenerTls = tls.listener(at + ".tls", l.get("tls"));
    if (listenerTls.isPresent() && protocol == ListenerProtocol.TCP) {
      fields.problem(
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
                  fields.problem(
                      at + ".cluster",
                      l.get("cluster"),
                      "a cluster without tls for a tcp listener (TLS to upstreams is for http"
                          + " listeners)"));
    }
    int maxConnections =
        fields.positiveInt(
            at + ".maxConnections", l.get("maxConnections"), ListenerConfig.UNLIMITED);
    if (name == null || address == null || protocol == null || cluster == null) {
      return Optional.empty();
    }
    return Optional.of(
        new ListenerConfig(name, address, protocol, cluster, listenerTls, maxConnections));
  }

  private ListenerProtocol protocol(String key, JsonNode node) {
    String value = fields.text(key, node, "http");
    for (ListenerProtocol p : ListenerProtocol.values()) {
      if (p.wireName().equals(value)) {
        return p;
      }
    }
    fields.problem(key, node, "http or tcp");
    return null;
  }
}
