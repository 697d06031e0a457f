package io.baton.sidecar.discovery;

import io.baton.proto.discovery.v1.DiscoveredCluster;
import io.baton.proto.discovery.v1.DiscoveredMember;
import io.baton.proto.discovery.v1.RejectedKey;
import io.baton.sidecar.config.DiscoveryConfig;
import io.baton.sidecar.config.Durations;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.discovery.etcd.EtcdEvent;
import io.baton.sidecar.discovery.etcd.EtcdKeyValue;
import io.baton.sidecar.discovery.etcd.EtcdPrefixListener;
import io.baton.sidecar.discovery.etcd.EtcdPrefixWatch;
import io.baton.sidecar.metrics.DiscoveryMetrics;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.upstream.Member;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster whose members come from an etcd prefix: reads it, watches it, applies every change to
 * the {@link Cluster}, dumps the members to a file, and gives them with the watch revision to the
 * next generation. The watch delivers on one thread; the handoff and the admin endpoint read a
 * consistent view under this object's lock.
 */
public final class ClusterDiscovery implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ClusterDiscovery.class);

  private final Cluster cluster;
  private final DiscoveryConfig config;
  private final DiscoveryMetrics metrics;
  private final MemberParser parser;
  private final Optional<MembersDump> dump;
  private final Clock clock;
  private final MemberTable table = new MemberTable();
  private EtcdPrefixWatch watch;
  private long revision;
  private DiscoverySource source = DiscoverySource.NONE;
  private boolean etcdConnected;
  private String lastError = "";

  public ClusterDiscovery(
      Cluster cluster, DiscoveryConfig config, DiscoveryMetrics metrics, Clock clock) {
    this.cluster = cluster;
    this.config = config;
    this.metrics = metrics;
    this.parser = new MemberParser(config.etcd().prefix());
    this.dump = config.dumpPath().map(MembersDump::new);
    this.clock = clock;
  }

  public String name() {
    return cluster.name();
  }

  public DiscoveryConfig config() {
    return config;
  }

  /** Whether {@code carried} (from the predecessor) describes this cluster's prefix. */
  public boolean canContinueFrom(DiscoveredCluster carried) {
    return carried.getCluster().equals(cluster.name())
        && carried.getPrefix().equals(config.etcd().prefix());
  }

  /**
   * Serves with the predecessor's members at once and watches from its revision: no gap, no
   * re-read. Members the predecessor had only from its dump (revision 0) are used until a read of
   * the prefix replaces them.
   */
  public void continueFrom(DiscoveredCluster carried) {
    Map<String, Member> byKey = new LinkedHashMap<>();
    for (DiscoveredMember m : carried.getMembersList()) {
      try {
        byKey.put(
            m.getKey(),
            new Member(
                HostPort.parse(m.getAddress()),
                m.getWeight(),
                m.getMaxFails(),
                Duration.ofMillis(m.getFailTimeoutMillis()),
                m.getDown()));
      } catch (IllegalArgumentException e) {
        log.warn(
            "cluster {}: the predecessor's member {} is not valid ({}): skipped",
            name(),
            m.getKey(),
            e.getMessage());
      }
    }
    List<ParsedMember> parsed = accepted(byKey);
    carried
        .getRejectedList()
        .forEach(r -> parsed.add(new ParsedMember.Rejected(r.getKey(), r.getReason())));
    synchronized (this) {
      table.replaceAll(parsed);
      revision = carried.getRevision();
      source = DiscoverySource.PREDECESSOR;
      cluster.replaceMembers(table.members());
      metrics.revision(revision);
    }
    log.info(
        "cluster {}: {} member(s) from the predecessor ({} at revision {}); watching {} from"
            + " revision {}",
        name(),
        byKey.size(),
        carried.getSource(),
        revision,
        config.etcd().prefix(),
        revision + 1);
    startWatch(revision > 0 ? OptionalLong.of(revision) : OptionalLong.empty());
  }

  /**
   * A cold start: reads the prefix, then watches it. {@link #firstRead} completes with the read.
   */
  public void startCold() {
    log.info(
        "cluster {}: reading {} from etcd {}",
        name(),
        config.etcd().prefix(),
        config.etcd().endpoints());
    startWatch(OptionalLong.empty());
  }

  /**
   * Completes when etcd answered for the first time (a read of the prefix, or the resumed watch).
   */
  public CompletableFuture<Void> firstRead() {
    return watch.firstSync();
  }

  /**
   * etcd did not answer within the start timeout. Uses the dump file if there is one, unless {@code
   * strongDependency} says not to start at all.
   *
   * @throws DiscoveryUnavailableException when this generation must not start
   */
  public void etcdDidNotAnswer() throws DiscoveryUnavailableException {
    String why =
        "etcd "
            + config.etcd().endpoints()
            + " did not answer within "
            + Durations.format(config.etcd().timeout())
            + (lastError.isEmpty() ? "" : " (" + lastError + ")");
    if (config.strongDependency()) {
      throw new DiscoveryUnavailableException(
          "cluster "
              + name()
              + ": "
              + why
              + ", and discovery.strongDependency is true: refusing to start without its members");
    }
    if (dump.isEmpty()) {
      log.warn(
          "cluster {}: {} and it has no dumpPath: serving with no members (503) until etcd answers",
          name(),
          why);
      return;
    }
    Optional<MembersDump.Contents> contents;
    try {
      contents = dump.get().read();
    } catch (IOException e) {
      metrics.error(DiscoveryMetrics.Error.DUMP);
      log.error(
          "cluster {}: {}, and {}: serving with no members (503) until etcd answers",
          name(),
          why,
          e.getMessage());
      return;
    }
    if (contents.isEmpty()) {
      log.warn(
          "cluster {}: {}, and the dump {} does not exist yet: serving with no members (503) until"
              + " etcd answers",
          name(),
          why,
          dump.get().path());
      return;
    }
    Map<String, Member> byKey = contents.get().membersByKey();
    synchronized (this) {
      if (source != DiscoverySource.NONE) {
        return; // etcd answered meanwhile: its members are newer than any dump
      }
      table.replaceAll(accepted(byKey));
      source = DiscoverySource.DUMP;
      revision = contents.get().revision();
      cluster.replaceMembers(table.members());
    }
    log.warn(
        "cluster {}: {}: serving the {} member(s) of the dump {} (written {} at revision {}) until"
            + " etcd answers",
        name(),
        why,
        byKey.size(),
        dump.get().path(),
        contents.get().writtenAt(),
        contents.get().revision());
  }

  private static List<ParsedMember> accepted(Map<String, Member> byKey) {
    List<ParsedMember> parsed = new ArrayList<>();
    byKey.forEach((k, m) -> parsed.add(new ParsedMember.Accepted(k, m)));
    return parsed;
  }

  private void startWatch(OptionalLong resumeFrom) {
    watch =
        EtcdPrefixWatch.start(
            config.etcd().endpoints(),
            config.etcd().prefix(),
            config.etcd().timeout(),
            resumeFrom,
            new Listener());
  }

  /** What goes to the successor: the members now, and the revision they are current at. */
  public synchronized DiscoveredCluster carriedState() {
    DiscoveredCluster.Builder b =
        DiscoveredCluster.newBuilder()
            .setCluster(name())
            .setPrefix(config.etcd().prefix())
            .setRevision(source == DiscoverySource.DUMP ? 0 : revision)
            .setSource(
                source == DiscoverySource.PREDECESSOR
                    ? DiscoverySource.ETCD.label()
                    : source.label());
    table
        .byKey()
        .forEach(
            (key, m) ->
                b.addMembers(
                    DiscoveredMember.newBuilder()
                        .setKey(key)
                        .setAddress(m.address().toString())
                        .setWeight(m.weight())
                        .setMaxFails(m.maxFails())
                        .setFailTimeoutMillis(m.failTimeout().toMillis())
                        .setDown(m.down())));
    table
        .rejected()
        .forEach(
            (key, reason) -> b.addRejected(RejectedKey.newBuilder().setKey(key).setReason(reason)));
    return b.build();
  }

  /** For {@code GET /clusters}. */
  public synchronized DiscoveryView view() {
    return new DiscoveryView(
        source, revision, etcdConnected, lastError, table.byKey(), table.rejected());
  }

  /** A consistent look at the discovery state. */
  public record DiscoveryView(
      DiscoverySource source,
      long revision,
      boolean etcdConnected,
      String lastError,
      Map<String, Member> membersByKey,
      Map<String, String> rejected) {}

  @Override
  public void close() {
    if (watch != null) {
      watch.close();
    }
  }

  /** Called on the watch's one thread, in order. */
  private final class Listener implements EtcdPrefixListener {

    @Override
    public void snapshot(List<EtcdKeyValue> kvs, long atRevision) {
      Map<String, String> rejectedBefore;
      MemberTable.Change change;
      synchronized (ClusterDiscovery.this) {
        rejectedBefore = table.rejected();
        List<ParsedMember> parsed = new ArrayList<>();
        for (EtcdKeyValue kv : kvs) {
          parsed.add(parser.parse(kv.key(), kv.value()));
        }
        change = table.replaceAll(parsed);
        revision = atRevision;
        source = DiscoverySource.ETCD;
      }
      table
          .rejected()
          .forEach(
              (key, reason) -> {
                if (!reason.equals(rejectedBefore.get(key))) {
                  rejectedMember(key, reason);
                }
              });
      applied("read of " + config.etcd().prefix(), change, atRevision);
    }

    @Override
    public void changed(List<EtcdEvent> events, long atRevision) {
      int added = 0;
      int removed = 0;
      int changed = 0;
      int rejected = 0;
      synchronized (ClusterDiscovery.this) {
        for (EtcdEvent e : events) {
          MemberTable.Change c;
          if (e.type() == EtcdEvent.Type.PUT) {
            ParsedMember parsed = parser.parse(e.key(), e.value());
            c = table.put(parsed);
            if (parsed instanceof ParsedMember.Rejected r) {
              rejectedMember(r.key(), r.reason());
            }
          } else {
            c = table.remove(e.key());
          }
          added += c.added();
          removed += c.removed();
          changed += c.changed();
          rejected += c.rejected();
        }
        revision = atRevision;
        source = DiscoverySource.ETCD;
      }
      applied(
          events.size() + " watch event(s)",
          new MemberTable.Change(added, removed, changed, rejected),
          atRevision);
    }

    @Override
    public void unavailable(String reason) {
      synchronized (ClusterDiscovery.this) {
        etcdConnected = false;
        lastError = reason;
      }
      metrics.connected(false);
      metrics.error(DiscoveryMetrics.Error.UNAVAILABLE);
      log.warn(
          "cluster {}: etcd unavailable ({}); keeping the {} member(s) it has, retrying",
          name(),
          reason,
          cluster.members().size());
    }

    @Override
    public void connected(String endpoint) {
      synchronized (ClusterDiscovery.this) {
        etcdConnected = true;
        lastError = "";
      }
      metrics.connected(true);
      log.info("cluster {}: watching {} on etcd {}", name(), config.etcd().prefix(), endpoint);
    }
  }

  private void rejectedMember(String key, String reason) {
    metrics.error(DiscoveryMetrics.Error.BAD_MEMBER);
    log.warn("cluster {}: key {} is not a member, skipped: {}", name(), key, reason);
  }

  /** Applies the table to the cluster and the dump; runs on the watch thread. */
  private void applied(String what, MemberTable.Change change, long atRevision) {
    List<Member> members;
    synchronized (this) {
      members = table.members();
      cluster.replaceMembers(members);
    }
    metrics.updated(atRevision);
    log.info(
        "cluster {}: {} at revision {}: {} member(s) ({})",
        name(),
        what,
        atRevision,
        members.size(),
        change);
    writeDump(atRevision);
  }

  private void writeDump(long atRevision) {
    if (dump.isEmpty()) {
      return;
    }
    Map<String, Member> byKey;
    synchronized (this) {
      byKey = table.byKey();
    }
    try {
      dump.get()
          .write(
              MembersDump.Contents.of(
                  name(), config.etcd().prefix(), atRevision, clock.instant(), byKey));
    } catch (IOException | RuntimeException e) {
      metrics.error(DiscoveryMetrics.Error.DUMP);
      log.error(
          "cluster {}: writing the dump {} failed: {}", name(), dump.get().path(), e.toString());
    }
  }
}
