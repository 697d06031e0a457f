package io.baton.sidecar.upstream;

import io.baton.sidecar.config.ClusterConfig;
import io.baton.sidecar.config.Durations;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.metrics.ClusterMetrics;
import io.baton.sidecar.tls.UpstreamTls;
import io.netty.channel.EventLoop;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An upstream cluster: its members, which may change at run time ({@link #replaceMembers}), the
 * choice among them (nginx's smooth weighted round robin, {@link SmoothWeightedBalancer}, skipping
 * members that are down or that failed, {@link PassiveHealth}), and its keep-alive pools (one per
 * event loop).
 *
 * <p>Threads: the members and the balancer's state change under one lock, taken by every choice and
 * every change of members (from any thread: the event loops, the discovery watcher). A pool is only
 * touched from its own event loop; when members go, each pool closes its idle connections to them
 * in a task on that loop.
 */
public final class Cluster {

  private static final Logger log = LoggerFactory.getLogger(Cluster.class);

  private final ClusterConfig config;
  private final ClusterMetrics metrics;
  private final LongSupplier nanoTime;
  private final Clock wallClock;
  private final Map<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  private final UpstreamTls tls;

  private final Object lock = new Object();

  /** Guarded by {@link #lock}. */
  private final SmoothWeightedBalancer balancer = new SmoothWeightedBalancer();

  /**
   * Guarded by {@link #lock}: which slots the pick in progress may choose; reused by every pick.
   */
  private boolean[] eligible = new boolean[0];

  /** Replaced under {@link #lock}; read anywhere. */
  private volatile Members current = new Members(List.of(), new Slot[0], Map.of());

  public Cluster(ClusterConfig config, ClusterMetrics metrics) {
    this(config, metrics, System::nanoTime, Clock.systemUTC());
  }

  /**
   * @param nanoTime the clock of passive health ({@code failTimeout}); tests pass their own
   * @param wallClock turns a FAILED member's monotonic deadline into {@link
   *     MemberStatus#failedUntil}
   * @throws io.baton.sidecar.tls.TlsSetupException when the cluster's TLS context cannot be built
   */
  public Cluster(
      ClusterConfig config, ClusterMetrics metrics, LongSupplier nanoTime, Clock wallClock) {
    this.config = Objects.requireNonNull(config, "config");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
    this.tls = UpstreamTls.of(config.name(), config.tls(), config.protocol());
    install(initialMembers(config.endpoints()));
    metrics.members(
        Arrays.stream(MemberStatus.State.values()).map(MemberStatus.State::label).toList(),
        this::countInState);
  }

  /**
   * The static endpoints as members with nginx's defaults. An endpoint listed twice got two turns
   * of the old round robin; it gets weight 2 now, the same share.
   */
  private static List<Member> initialMembers(List<HostPort> endpoints) {
    Map<HostPort, Integer> turns = new LinkedHashMap<>();
    endpoints.forEach(e -> turns.merge(e, 1, Integer::sum));
    List<Member> members = new ArrayList<>();
    turns.forEach(
        (address, n) ->
            members.add(
                n == 1
                    ? Member.of(address)
                    : new Member(
                        address, n, Member.DEFAULT_MAX_FAILS, Member.DEFAULT_FAIL_TIMEOUT, false)));
    return members;
  }

  public ClusterConfig config() {
    return config;
  }

  /** TLS to the members, or {@link UpstreamTls#NONE}. */
  public UpstreamTls tls() {
    return tls;
  }

  public ClusterMetrics metrics() {
    return metrics;
  }

  public String name() {
    return config.name();
  }

  /** The current members, in the order they were given. */
  public List<Member> members() {
    return current.list();
  }

  /** Every current member with its state as of now, in the order of {@link #members()}. */
  public List<MemberStatus> memberStatuses() {
    Slot[] slots = current.slots();
    long now = nanoTime.getAsLong();
    Instant wallNow = wallClock.instant();
    List<MemberStatus> statuses = new ArrayList<>(slots.length);
    for (Slot slot : slots) {
      PassiveHealth.View health = slot.health().view(now);
      MemberStatus.State state =
          slot.member().down()
              ? MemberStatus.State.DOWN
              : health.failed() ? MemberStatus.State.FAILED : MemberStatus.State.HEALTHY;
      Optional<Instant> until =
          state == MemberStatus.State.FAILED
              ? Optional.of(wallNow.plusNanos(health.remainingNanos()))
              : Optional.empty();
      statuses.add(new MemberStatus(slot.member(), state, health.failures(), until));
    }
    return statuses;
  }

  /**
   * Makes {@code members} the cluster's members, for the next choice already. A member whose
   * address stays keeps its place in the rotation, its health and its pooled connections, whatever
   * else changed. A removed member gets no new request; its requests in flight finish, and its
   * connections are closed: the idle ones now (on their event loops), the others when released.
   *
   * @throws IllegalArgumentException when an address appears twice
   */
  public void replaceMembers(List<Member> members) {
    List<Member> list = List.copyOf(members);
    List<HostPort> added = new ArrayList<>();
    List<HostPort> removed = new ArrayList<>();
    synchronized (lock) {
      Members before = current;
      install(list);
      list.forEach(
          m -> {
            if (!before.byAddress().containsKey(m.address())) {
              added.add(m.address());
            }
          });
      before
          .list()
          .forEach(
              m -> {
                if (!current.byAddress().containsKey(m.address())) {
                  removed.add(m.address());
                }
              });
    }
    if (!added.isEmpty() || !removed.isEmpty()) {
      log.info(
          "cluster {}: {} member(s) now; added {}, removed {}",
          name(),
          list.size(),
          added,
          removed);
    }
    if (!removed.isEmpty()) {
      closeIdleConnectionsToNonMembers();
    }
  }

  /**
   * Builds the slots of {@code list}, carrying over what stays by address. Under the lock (or in
   * the constructor).
   */
  private void install(List<Member> list) {
    Members before = current;
    Slot[] slots = new Slot[list.size()];
    int[] weights = new int[list.size()];
    int[] previousIndex = new int[list.size()];
    Map<HostPort, Slot> byAddress = new HashMap<>();
    Map<HostPort, Integer> seen = new HashMap<>();
    for (int i = 0; i < slots.length; i++) {
      Integer first = seen.putIfAbsent(list.get(i).address(), i);
      if (first != null) {
        throw new IllegalArgumentException(
            "members["
                + i
                + "]: "
                + list.get(i).address()
                + " (expected each address once; "
                + "members["
                + first
                + "] has it too)");
      }
    }
    for (int i = 0; i < slots.length; i++) {
      Member m = list.get(i);
      Slot old = before.byAddress().get(m.address());
      PassiveHealth health;
      if (old != null) {
        health = old.health();
        health.configure(m);
        previousIndex[i] = old.index();
      } else {
        health = new PassiveHealth(m);
        previousIndex[i] = -1;
      }
      slots[i] = new Slot(i, m, health);
      weights[i] = m.weight();
      byAddress.put(m.address(), slots[i]);
    }
    balancer.replace(weights, previousIndex);
    eligible = new boolean[slots.length];
    current = new Members(list, slots, Map.copyOf(byAddress));
  }

  /**
   * Each pool closes its idle connections to addresses no longer members, on its own event loop. A
   * connection released meanwhile either sees the new members (closed at once) or is pooled before
   * this task runs on the same loop (closed by it).
   */
  private void closeIdleConnectionsToNonMembers() {
    pools.forEach(
        (loop, pool) -> {
          try {
            loop.execute(pool::closeIdleToNonMembers);
          } catch (RejectedExecutionException e) {
            // The loop is shutting down: it closes its channels itself.
          }
        });
  }

  /** Whether {@code address} is a current member (down or not). */
  public boolean isMember(HostPort address) {
    return current.byAddress().containsKey(address);
  }

  /**
   * The next member by smooth weighted round robin; empty when the cluster has none eligible (then
   * 503).
   */
  public Optional<HostPort> nextEndpoint() {
    return nextEndpoint(List.of());
  }

  /**
   * The next member by smooth weighted round robin among those not down and not in {@code tried}
   * (the members a request has already failed to connect to), skipping FAILED members unless all of
   * them are FAILED; empty when none is left.
   */
  public Optional<HostPort> nextEndpoint(Collection<HostPort> tried) {
    synchronized (lock) {
      Slot[] slots = current.slots();
      long now = 0;
      boolean haveNow = false;
      boolean skippedFailed = false;
      for (int i = 0; i < slots.length; i++) {
        Slot s = slots[i];
        boolean ok =
            !s.member().down() && (tried.isEmpty() || !tried.contains(s.member().address()));
        if (ok && !s.health().isClean()) {
          if (!haveNow) {
            now = nanoTime.getAsLong();
            haveNow = true;
          }
          if (s.health().isFailed(now)) {
            ok = false;
            skippedFailed = true;
          }
        }
        eligible[i] = ok;
      }
      int chosen = balancer.pick(eligible);
      if (chosen < 0 && skippedFailed) {
        // Every member left is FAILED: trying one is better than a 503 (nginx never fails a lone
        // server either).
        for (int i = 0; i < slots.length; i++) {
          Slot s = slots[i];
          eligible[i] =
              !s.member().down() && (tried.isEmpty() || !tried.contains(s.member().address()));
        }
        chosen = balancer.pick(eligible);
      }
      return chosen < 0 ? Optional.empty() : Optional.of(slots[chosen].member().address());
    }
  }

  /**
   * A request to {@code address} got its complete response, or a TCP connect succeeded: its failure
   * count clears.
   */
  public void recordSuccess(HostPort address) {
    Slot slot = current.byAddress().get(address);
    if (slot != null) {
      slot.health().recordSuccess();
    }
  }

  /**
   * A connect to {@code address} failed, or it did not answer in time, or it closed the connection
   * before its response: one failure towards {@code maxFails}. Nothing for an address no longer a
   * member.
   */
  public void recordFailure(HostPort address) {
    Slot slot = current.byAddress().get(address);
    if (slot == null) {
      return;
    }
    if (slot.health().recordFailure(nanoTime.getAsLong()) == PassiveHealth.Outcome.NOW_FAILED) {
      Member m = slot.member();
      String timeout = Durations.format(m.failTimeout());
      log.warn(
          "cluster {} member {}: {} failure(s) within {}: failed, skipped for {} while another"
              + " member is eligible",
          name(),
          address,
          m.maxFails(),
          timeout,
          timeout);
    }
  }

  private int countInState(String label) {
    int n = 0;
    for (MemberStatus status : memberStatuses()) {
      if (status.state().label().equals(label)) {
        n++;
      }
    }
    return n;
  }

  /**
   * The HTTP/1.1 keep-alive pool of {@code loop}. A client connection and its upstream connection
   * share an event loop, so a pool is only ever touched from its own thread: no locks.
   */
  public UpstreamPool pool(EventLoop loop) {
    return pools.computeIfAbsent(loop, l -> new UpstreamPool(this));
  }

  /**
   * One member in the current list: its index there (the balancer's), its parameters, its health.
   */
  private record Slot(int index, Member member, PassiveHealth health) {}

  private record Members(List<Member> list, Slot[] slots, Map<HostPort, Slot> byAddress) {}
}
