package io.baton.sidecar.server;

import com.google.protobuf.Any;
import io.baton.handoff.CarriedCounter;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.Drain;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.PassableListener;
import io.baton.sidecar.adminrpc.AdminRpcServer;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.discovery.Discoveries;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.migration.ConnectionAdopter;
import io.baton.sidecar.tls.SessionTickets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What this generation offers its successor, and what it does when the successor takes over or
 * rolls back: the handoff library's {@link HandoffSource}, translated to the sidecar's listeners,
 * counters, carried state, drain and lifecycle. Called on the handoff thread.
 */
final class HandoffSourceAdapter implements HandoffSource {

  private final Object lock;
  private final long generation;
  private final ListenerSet listeners;
  private final BatonMetrics metrics;
  private final Discoveries discoveries;
  private final SessionTickets tickets;
  private final GenerationDrain drain;
  private final Lifecycle lifecycle;
  private final AdminRpcServer adminRpc;

  /** This process's own listeners' resumers: connections the lost successor never touched. */
  private final ConnectionAdopter comebacks;

  /**
   * @param lock the server's: taking over, rolling back, SIGTERM's drain and stop never interleave
   */
  HandoffSourceAdapter(
      Object lock,
      long generation,
      ListenerSet listeners,
      BatonMetrics metrics,
      Discoveries discoveries,
      SessionTickets tickets,
      GenerationDrain drain,
      Lifecycle lifecycle,
      AdminRpcServer adminRpc,
      ConnectionAdopter comebacks) {
    this.lock = lock;
    this.generation = generation;
    this.listeners = listeners;
    this.metrics = metrics;
    this.discoveries = discoveries;
    this.tickets = tickets;
    this.drain = drain;
    this.lifecycle = lifecycle;
    this.adminRpc = adminRpc;
    this.comebacks = comebacks;
  }

  @Override
  public void successorOwns(LiveConnection connection) {
    comebacks.successorOwns(connection);
  }

  @Override
  public boolean resumeUnowned(LiveConnection connection) {
    return comebacks.resumeAfterSuccessorLoss(connection);
  }

  @Override
  public long generation() {
    return generation;
  }

  @Override
  public List<PassableListener> listeners() {
    return listeners.passable();
  }

  @Override
  public List<CarriedCounter> counters() {
    return metrics.carrier().snapshot();
  }

  @Override
  public List<Any> carriedState() {
    // Each kind of state is its own message type; the successor picks its own by Any.is.
    List<Any> state = new ArrayList<>(discoveries.carriedState());
    state.addAll(tickets.carriedState());
    return state;
  }

  @Override
  public Drain beginDrain(Set<String> adoptedListeners, ConnectionSink successor) {
    synchronized (lock) {
      drain.forSuccessor(successor);
      lifecycle.moveTo(Phase.DRAINING, "generation " + (generation + 1) + " accepts now");
      // Admin moves only when the successor adopted it (same address); otherwise this process
      // keeps answering /metrics and /ready (503) at its own address until it exits.
      return drain.start(adoptedListeners.contains(ConfigLoader.ADMIN_LISTENER_NAME));
    }
  }

  @Override
  public void rollBack(String reason) {
    synchronized (lock) {
      drain.rollBack();
      listeners.resumeAccepting();
      adminRpc.publish();
      lifecycle.moveTo(Phase.SERVING, "rolled back: " + reason);
    }
  }
}
