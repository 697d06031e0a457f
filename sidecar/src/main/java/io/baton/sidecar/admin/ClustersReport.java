package io.baton.sidecar.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.baton.sidecar.config.Durations;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.discovery.ClusterDiscovery;
import io.baton.sidecar.discovery.Discoveries;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.upstream.Member;
import io.baton.sidecar.upstream.MemberStatus;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /clusters}: each cluster's members as the balancer sees them (weight, health), where
 * they came from, and for a discovered cluster its etcd prefix, watch revision and rejected keys.
 */
public final class ClustersReport {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final List<Cluster> clusters;
  private final Discoveries discoveries;

  public ClustersReport(List<Cluster> clusters, Discoveries discoveries) {
    this.clusters = List.copyOf(clusters);
    this.discoveries = discoveries;
  }

  public String json() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode list = root.putArray("clusters");
    for (Cluster cluster : clusters) {
      ObjectNode c = list.addObject();
      c.put("name", cluster.name());
      Optional<ClusterDiscovery> discovery = discoveries.of(cluster.name());
      Map<HostPort, String> keyOf = new HashMap<>();
      if (discovery.isPresent()) {
        ClusterDiscovery.DiscoveryView view = discovery.get().view();
        c.put("source", view.source().label());
        ObjectNode d = c.putObject("discovery");
        ObjectNode etcd = d.putObject("etcd");
        discovery
            .get()
            .config()
            .etcd()
            .endpoints()
            .forEach(e -> etcd.withArray("endpoints").add(e.toString()));
        etcd.put("prefix", discovery.get().config().etcd().prefix());
        etcd.put("connected", view.etcdConnected());
        if (!view.lastError().isEmpty()) {
          etcd.put("lastError", view.lastError());
        }
        d.put("revision", view.revision());
        discovery.get().config().dumpPath().ifPresent(p -> d.put("dumpPath", p.toString()));
        d.put("strongDependency", discovery.get().config().strongDependency());
        ArrayNode rejected = d.putArray("rejected");
        view.rejected()
            .forEach((key, reason) -> rejected.addObject().put("key", key).put("reason", reason));
        view.membersByKey().forEach((key, m) -> keyOf.putIfAbsent(m.address(), key));
      } else {
        c.put("source", "config");
      }
      ArrayNode members = c.putArray("members");
      for (MemberStatus s : cluster.memberStatuses()) {
        Member m = s.member();
        ObjectNode o = members.addObject();
        o.put("address", m.address().toString());
        if (keyOf.containsKey(m.address())) {
          o.put("key", keyOf.get(m.address()));
        }
        o.put("weight", m.weight());
        o.put("maxFails", m.maxFails());
        o.put("failTimeout", Durations.format(m.failTimeout()));
        o.put("down", m.down());
        o.put("state", s.state().label());
        o.put("failures", s.failures());
        s.failedUntil().ifPresent(t -> o.put("failedUntil", t.toString()));
      }
    }
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
