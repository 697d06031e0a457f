package io.baton.sidecar.upstream;

import io.baton.sidecar.config.HostPort;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which member of a cluster one request goes to, and which one next when an attempt fails before
 * the member processed anything: a member that could not be reached is not tried again for this
 * request (nginx's {@code proxy_next_upstream error timeout}). One per request (an HTTP/1.1
 * exchange, an HTTP/2 stream), used on its event loop. Shared by the HTTP/1.1 and HTTP/2 proxies;
 * each decides, by its own rule, whether a failure may be retried at all.
 */
public final class UpstreamChoice {

  private final Cluster cluster;

  /** The members this request could not reach; the shared empty list on the usual path. */
  private List<HostPort> unreachable = List.of();

  private HostPort current;

  public UpstreamChoice(Cluster cluster) {
    this.cluster = cluster;
  }

  /** The first member, by the cluster's balancer; empty when none is eligible (then 503). */
  public Optional<HostPort> first() {
    Optional<HostPort> first = cluster.nextEndpoint();
    current = first.orElse(null);
    return first;
  }

  /** The member of the attempt under way; null before one was chosen. */
  public HostPort current() {
    return current;
  }

  /** The current member could not be reached: it is not chosen again for this request. */
  public void markUnreachable() {
    if (unreachable.isEmpty()) {
      unreachable = new ArrayList<>(2);
    }
    unreachable.add(current);
  }

  /** The next member among those this request reached or has not tried; empty when none is left. */
  public Optional<HostPort> nextReachable() {
    return cluster.nextEndpoint(unreachable);
  }

  /**
   * The next member of the whole rotation, the current one included: after a refusal, which says
   * nothing of whether the member can be reached.
   */
  public Optional<HostPort> nextAny() {
    return cluster.nextEndpoint();
  }

  /** The next attempt goes to {@code next}. */
  public void retryOn(HostPort next) {
    current = next;
  }

  /** Counts a failure against the current member (passive health). */
  public void recordFailure() {
    cluster.recordFailure(current);
  }

  /** Counts a success for the current member (passive health). */
  public void recordSuccess() {
    cluster.recordSuccess(current);
  }
}
