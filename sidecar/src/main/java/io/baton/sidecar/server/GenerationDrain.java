package io.baton.sidecar.server;

import io.baton.handoff.ConnectionSink;
import io.baton.handoff.process.Handoff;
import io.baton.proto.admin.v1.DrainStatus;
import io.baton.sidecar.adminrpc.HandoffEventFeed;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.drain.DeadlineScheduler;
import io.baton.sidecar.drain.DrainController;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.migration.ConnectionMover;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain of one generation: whether its connections move to the successor or are drained here,
 * the {@link DrainController} and the progress it reports, a rollback, and how long the process
 * waits for the drain (and, under systemd, for older generations) before it stops.
 *
 * <p>{@link #forSuccessor}, {@link #start} and {@link #rollBack} run under the server's lock (the
 * caller holds it): a drain begun by a successor and one begun by SIGTERM never interleave.
 */
final class GenerationDrain {

  /** Logs as the server did before this class was split from it: operators filter on that name. */
  private static final Logger log = LoggerFactory.getLogger(SidecarServer.class);

  /** How often {@code baton watch} hears how the drain goes. */
  private static final long DRAIN_PROGRESS_EVERY_MS = 250;

  private final BatonConfig config;
  private final Handoff handoff;
  private final DrainState state;
  private final ListenerSet listeners;
  private final EventLoops loops;
  private final HandoffEventFeed feed;
  private final BatonMetrics metrics;
  private final long generation;

  /** The generation this one took over from (its pid as it said it), 0 after a cold start. */
  private final long predecessorPid;

  /**
   * systemd follows this process ({@code NOTIFY_SOCKET}): the newest generation exits after the
   * older ones.
   */
  private final boolean underSystemd;

  private volatile DrainController drain;

  /** Set while this process drains because a successor took over (not for SIGTERM). */
  private volatile boolean forSuccessor;

  GenerationDrain(
      BatonConfig config,
      Handoff handoff,
      DrainState state,
      ListenerSet listeners,
      EventLoops loops,
      HandoffEventFeed feed,
      BatonMetrics metrics,
      long generation,
      long predecessorPid,
      boolean underSystemd) {
    this.config = config;
    this.handoff = handoff;
    this.state = state;
    this.listeners = listeners;
    this.loops = loops;
    this.feed = feed;
    this.metrics = metrics;
    this.generation = generation;
    this.predecessorPid = predecessorPid;
    this.underSystemd = underSystemd;
  }

  /** A client connection of {@code socket} closed: the drain may be over. */
  void connectionClosed(ServingSocket socket) {
    DrainController d = drain;
    if (d != null && d.isDraining()) {
      metrics.listener(socket.name()).setDrainConnections(socket.openConnections());
      d.connectionClosed();
    }
  }

  /**
   * A successor took over: idle connections move to it when drain.migrate is on and it takes them,
   * else they are drained here. Call {@link #start} next.
   */
  void forSuccessor(ConnectionSink successor) {
    boolean migrate = config.drain().migrate() && successor.isOpen();
    state.setMover(migrate ? new ConnectionMover(successor) : ConnectionMover.OFF);
    log.info(
        "drain: {}",
        migrate
            ? "idle HTTP/1.1 connections move to generation "
                + (generation + 1)
                + " at their next request boundary"
            : config.drain().migrate()
                ? "the successor takes no live connections: draining them all here"
                : "drain.migrate is off: draining every connection here");
    forSuccessor = true;
  }

  /** Stops accepting (on admin too if {@code stopAdmin}) and begins the drain. */
  DrainController start(boolean stopAdmin) {
    listeners.stopAccepting(stopAdmin);
    state.set(DrainState.Mode.DRAINING);
    DeadlineScheduler scheduler =
        (task, delay) -> {
          var future = loops.group().next().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
          return () -> future.cancel(false);
        };
    DrainController started =
        new DrainController(listeners, config.drain().timeout(), System::nanoTime, scheduler);
    drain = started;
    var progress =
        loops
            .group()
            .next()
            .scheduleAtFixedRate(
                () -> feed.publish("drain_progress", "", status()),
                0,
                DRAIN_PROGRESS_EVERY_MS,
                TimeUnit.MILLISECONDS);
    // Reported before the completion completes: whoever waits for it (the handoff) may stop the
    // process next, and a `baton watch` must still hear that the drain finished.
    started.whenFinishing(
        outcome -> {
          progress.cancel(false);
          metrics.drainFinished(outcome.took());
          feed.publish("drain_finished", "in " + outcome.took().toMillis() + " ms", status());
        });
    return started.begin();
  }

  /** The successor failed: this process serves again, its drain cancelled. */
  void rollBack() {
    DrainController d = drain;
    if (d != null) {
      d.cancel();
    }
    forSuccessor = false;
    state.set(DrainState.Mode.SERVING);
    state.setMover(ConnectionMover.OFF);
  }

  /** The drain under way or finished; null before the first. */
  DrainController current() {
    return drain;
  }

  /**
   * Completes when the process may stop after {@code current}: once the drain is done; after a
   * handoff also once the handoff ended; under systemd (a stop, not a handoff) also once the older
   * generations still draining have exited. Gives up after the drain timeout plus margins.
   */
  CompletableFuture<?> end(DrainController current, String why) {
    CompletableFuture<?> done = current.completion().toCompletableFuture();
    long waitMillis = config.drain().timeout().toMillis() + 5000;
    if (forSuccessor) {
      // Already handed over: the handoff ends once our drain is done and our own predecessor
      // (if it still drains) is gone, so that its final counters reach the successor through us.
      done = done.thenCompose(outcome -> handoff.successorTookOver());
    } else if (underSystemd) {
      // The service stops: under systemd the newest generation exits last, after the older ones
      // have drained and exited. systemd follows it as the main process; once it exits, systemd
      // signals what is left of the unit and, in a cgroup v1 container, SIGKILLs it or (seen
      // when an older generation outlived the main process by 6 ms) waits for a cgroup-empty
      // event that never comes, until TimeoutStopSec. (Elsewhere the supervisor waits for every
      // process, baton launch for all its children: the newest exits when its own drain ends.)
      List<Long> older = new ArrayList<>();
      if (predecessorPid > 0) {
        older.add(predecessorPid);
      }
      handoff.drainingPredecessors().forEach(p -> older.add(p.pid()));
      done =
          done.thenCompose(
                  outcome -> {
                    if (!handoff.drainingPredecessors().isEmpty()) {
                      log.info(
                          "{}: generation {} drained; waiting for the older generation(s) still"
                              + " draining before exiting",
                          why,
                          generation);
                    }
                    return handoff.predecessorsGone();
                  })
              .thenCompose(gone -> exitOf(older));
      waitMillis += config.handoff().stepTimeout().toMillis();
    }
    waitMillis += config.handoff().stepTimeout().toMillis();
    return done.handle((result, failure) -> null)
        .completeOnTimeout(null, waitMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Completes when every process of {@code pids} has exited, or after the step timeout. Pids, not
   * sockets: a predecessor closes its control connection when its drain is done, before its JVM has
   * exited. Used under systemd only, where the older generations are in our pid namespace.
   */
  private CompletableFuture<Void> exitOf(List<Long> pids) {
    CompletableFuture<?>[] exits =
        pids.stream()
            .map(
                pid ->
                    ProcessHandle.of(pid)
                        .map(ProcessHandle::onExit)
                        .orElse(CompletableFuture.completedFuture(null)))
            .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(exits)
        .completeOnTimeout(null, config.handoff().stepTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Connections and requests left, connections moved so far. */
  DrainStatus status() {
    return DrainStatus.newBuilder()
        .setConnectionsLeft(listeners.openConnections())
        .setRequestsLeft(listeners.activeRequests())
        .setConnectionsMigrated(state.mover().sent())
        .build();
  }
}
