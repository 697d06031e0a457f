package io.baton.sidecar.server;

import io.baton.handoff.Arrival;
import io.baton.handoff.CarriedCounter;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.Drain;
import io.baton.handoff.Handoff;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.InheritedListener;
import io.baton.handoff.PassableListener;
import io.baton.sidecar.admin.AdminInitializer;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.drain.DeadlineScheduler;
import io.baton.sidecar.drain.DrainController;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.http1.Http1ProxyInitializer;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import io.baton.sidecar.listener.ConnectionObserver;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.migration.ConnectionAdopter;
import io.baton.sidecar.migration.ConnectionMover;
import io.baton.sidecar.tcp.TcpRelayInitializer;
import io.baton.sidecar.upstream.Cluster;
import io.netty.channel.ChannelHandler;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One generation of Baton: takes over from the active process or starts cold, serves, and hands
 * over to its successor (or drains on SIGTERM), then stops.
 */
public final class SidecarServer {

  private static final Logger log = LoggerFactory.getLogger(SidecarServer.class);
  static final String ADMIN_PROTOCOL = "admin";

  private final BatonConfig config;
  private final Handoff handoff;
  private final BatonMetrics metrics;
  private final Lifecycle lifecycle = new Lifecycle();
  private final DrainState drainState = new DrainState();
  private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
  private EventLoops loops;
  private ListenerSet listeners;
  private long generation;
  private DrainController drain;

  private SidecarServer(BatonConfig config, Handoff handoff, BatonMetrics metrics) {
    this.config = config;
    this.handoff = handoff;
    this.metrics = metrics;
    lifecycle.observe(phase -> metrics.setReady(phase == Phase.SERVING));
    lifecycle.observe(phase -> metrics.setDraining(phase == Phase.DRAINING));
  }

  /**
   * Starts a generation and returns once it serves (its serving line printed on {@code out}).
   *
   * @throws StartupException with the reason; anything received from a predecessor has been
   *     released and the predecessor told, so it serves on
   */
  public static SidecarServer start(BatonConfig config, HandoffSettings settings, PrintStream out)
      throws StartupException {
    BatonMetrics metrics = new BatonMetrics();
    Handoff handoff;
    try {
      handoff = Handoff.open(settings, new MetricsHandoffEvents(metrics));
    } catch (HandoffException e) {
      throw new StartupException(e.getMessage(), e);
    }
    SidecarServer server = new SidecarServer(config, handoff, metrics);
    server.startServing(out);
    return server;
  }

  private void startServing(PrintStream out) throws StartupException {
    long started = System.nanoTime();
    Arrival arrival;
    try {
      arrival = handoff.arrive();
    } catch (HandoffException e) {
      handoff.close();
      throw new StartupException(e.getMessage(), e);
    }
    Map<String, InheritedListener> inherited = new HashMap<>();
    Set<String> adopted = new HashSet<>();
    if (arrival instanceof Arrival.Takeover takeover) {
      generation = takeover.generation();
      takeover.listeners().forEach(l -> inherited.put(l.name(), l));
      metrics.setListenersInherited(inherited.size());
      metrics.carrier().continueFrom(takeover.counters());
      lifecycle.moveTo(Phase.TAKING_OVER, "received " + inherited.size() + " listeners from generation "
          + (generation - 1) + " (pid " + takeover.predecessorPid() + ", " + takeover.predecessorVersion() + ")");
    } else {
      generation = 1;
      log.info("cold start: no active process owns {}", config.runDir());
    }
    metrics.setGeneration(generation);

    try {
      loops = EventLoops.start(Runtime.getRuntime().availableProcessors());
      listeners = openListeners(inherited, adopted);
    } catch (IOException | RuntimeException e) {
      String reason = "generation " + generation + " cannot serve: " + e.getMessage();
      inherited.values().forEach(SidecarServer::closeFd);
      handoff.abort(reason);
      handoff.close();
      if (listeners != null) {
        listeners.closeAll();
      }
      if (loops != null) {
        loops.close();
      }
      throw new StartupException(reason, e);
    }

    // Accepting and saying Ready are one step: a connection accepted from here on is one this
    // process can serve, because everything it needs was built above.
    listeners.startAcceptingData();
    try {
      handoff.serve(new Source(), adopted, new ConnectionAdopter(listeners.data(), listeners.contexts(), metrics));
    } catch (HandoffException e) {
      // We accept already; the predecessor either stopped (then we are the only server) or never
      // heard Ready (then both accept from the same queues): either way nothing is lost.
      log.error("handoff after Ready did not complete cleanly: {}", e.getMessage());
    }
    // Admin only now: serve() returned once the predecessor stopped accepting and its counters up
    // to then were added, so no scrape here reads lower than one the predecessor answered.
    listeners.admin().startAccepting();
    lifecycle.moveTo(Phase.SERVING, "accepting on " + listeners.data().size() + " listeners + admin");
    // Stopped on a thread of its own: stop() closes the handoff, whose thread completes this future.
    handoff.successorTookOver().whenComplete((outcome, failure) ->
        new Thread(() -> stop("generation " + (generation + 1) + " took over and the drain finished"), "baton-stop").start());
    log.info("generation {} serving after {} ms", generation, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    out.println(ServingLine.of(generation, ProcessHandle.current().pid(), listeners));
    out.flush();
  }

  private ListenerSet openListeners(Map<String, InheritedListener> inherited, Set<String> adopted) throws IOException {
    Map<String, Cluster> clusters = new LinkedHashMap<>();
    config.clusters().forEach(c -> clusters.put(c.name(), new Cluster(c, metrics.cluster(c.name()))));
    ConnectionObserver observer = new ConnectionObserver() {
      @Override
      public void closed(ServingSocket socket) {
        DrainController d = drain;
        if (d != null && d.isDraining()) {
          metrics.listener(socket.name()).setDrainConnections(socket.openConnections());
          d.connectionClosed();
        }
      }
    };
    ConnectionObserver counting = new ConnectionObserver() {
      @Override
      public void opened(ServingSocket socket) {
        metrics.listener(socket.name()).connectionOpened();
      }

      @Override
      public void adopted(ServingSocket socket) {
        metrics.listener(socket.name()).connectionAdopted();
      }

      @Override
      public void closed(ServingSocket socket) {
        metrics.listener(socket.name()).connectionClosed();
        observer.closed(socket);
      }
    };
    List<ServingSocket> data = new ArrayList<>();
    Map<String, ListenerContext> contexts = new LinkedHashMap<>();
    ServingSocket admin = null;
    try {
      for (ListenerConfig lc : config.listeners()) {
        ListenerContext ctx = new ListenerContext(lc, clusters.get(lc.cluster()), metrics.listener(lc.name()),
            drainState, generation, config.admin().servingHeader());
        contexts.put(lc.name(), ctx);
        ChannelHandler initializer = switch (lc.protocol()) {
          case HTTP -> new Http1ProxyInitializer(ctx);
          case TCP -> new TcpRelayInitializer(ctx);
        };
        data.add(open(lc.name(), lc.address(), lc.protocol().wireName(), inherited.remove(lc.name()), initializer, counting, adopted));
      }
      AdminInitializer adminInit = new AdminInitializer(metrics, () -> lifecycle.phase() == Phase.SERVING);
      admin = open(ConfigLoader.ADMIN_LISTENER_NAME, config.admin().address(), ADMIN_PROTOCOL,
          inherited.remove(ConfigLoader.ADMIN_LISTENER_NAME), adminInit, ConnectionObserver.NONE, adopted);
    } catch (IOException | RuntimeException e) {
      data.forEach(ServingSocket::closeListener);
      throw e;
    }
    for (InheritedListener gone : inherited.values()) {
      log.info("listener {} ({}) exists only in the previous generation's config: closed", gone.name(), gone.address());
      closeFd(gone);
    }
    inherited.clear();
    return new ListenerSet(data, contexts, admin, metrics);
  }

  private ServingSocket open(String name, HostPort address, String protocol, InheritedListener inherited,
      ChannelHandler initializer, ConnectionObserver observer, Set<String> adopted) throws IOException {
    if (inherited != null && inherited.address().equals(address.toString())) {
      ServingSocket s = ServingSocket.adopt(name, address, protocol, inherited.fd(), loops.group(), initializer, observer);
      adopted.add(name);
      log.info("listener {} ({}, {}) inherited as fd {}", name, address, protocol, inherited.fd());
      return s;
    }
    if (inherited != null) {
      log.info("listener {} moved from {} to {}: closing the inherited socket, binding fresh", name, inherited.address(), address);
      closeFd(inherited);
    }
    ServingSocket s = ServingSocket.bind(name, address, protocol, loops.group(), initializer, observer);
    log.info("listener {} ({}, {}) bound fresh at {}", name, address, protocol, s.boundAddress());
    return s;
  }

  private static void closeFd(InheritedListener l) {
    try {
      new FileDescriptor(l.fd()).close();
    } catch (IOException e) {
      log.warn("closing inherited fd {} of listener {} failed: {}", l.fd(), l.name(), e.toString());
    }
  }

  /** What this process offers its successor. Called on the handoff thread. */
  private final class Source implements HandoffSource {
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
    public Drain beginDrain(Set<String> adoptedListeners, ConnectionSink successor) {
      synchronized (SidecarServer.this) {
        boolean migrate = config.drain().migrate() && successor.isOpen();
        drainState.setMover(migrate ? new ConnectionMover(successor) : ConnectionMover.OFF);
        log.info("drain: {}", migrate
            ? "idle HTTP/1.1 connections move to generation " + (generation + 1) + " at their next request boundary"
            : config.drain().migrate() ? "the successor takes no live connections: draining them all here"
                : "drain.migrate is off: draining every connection here");
        lifecycle.moveTo(Phase.DRAINING, "generation " + (generation + 1) + " accepts now");
        // Admin moves only when the successor adopted it (same address); otherwise this process
        // keeps answering /metrics and /ready (503) at its own address until it exits.
        return startDrain(adoptedListeners.contains(ConfigLoader.ADMIN_LISTENER_NAME));
      }
    }

    @Override
    public void rollBack(String reason) {
      synchronized (SidecarServer.this) {
        if (drain != null) {
          drain.cancel();
        }
        drainState.set(DrainState.Mode.SERVING);
        drainState.setMover(ConnectionMover.OFF);
        listeners.resumeAccepting();
        lifecycle.moveTo(Phase.SERVING, "rolled back: " + reason);
      }
    }
  }

  private DrainController startDrain(boolean stopAdmin) {
    listeners.stopAccepting(stopAdmin);
    drainState.set(DrainState.Mode.DRAINING);
    DeadlineScheduler scheduler = (task, delay) -> {
      var future = loops.group().next().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
      return () -> future.cancel(false);
    };
    drain = new DrainController(listeners, config.drain().timeout(), System::nanoTime, scheduler);
    drain.completion().thenAccept(outcome -> metrics.drainFinished(outcome.took()));
    return drain.begin();
  }

  /**
   * SIGTERM: drain without a successor and stop. Waits at most the drain timeout plus a margin.
   * If a successor already took over, waits for that drain instead.
   */
  public void shutdownGracefully(String why) {
    DrainController current;
    synchronized (this) {
      if (lifecycle.tryMoveTo(Phase.DRAINING, why)) {
        // Keep admin up: an orchestrator watching /ready must see 503, not a refused connection.
        startDrain(false);
      }
      current = drain;
    }
    if (current != null) {
      current.completion().toCompletableFuture()
          .completeOnTimeout(null, config.drain().timeout().toMillis() + 5000, TimeUnit.MILLISECONDS)
          .join();
    }
    stop(why);
  }

  private synchronized void stop(String why) {
    if (!lifecycle.tryMoveTo(Phase.STOPPED, why)) {
      return;
    }
    listeners.closeAll();
    handoff.close();
    loops.close();
    exitCode.complete(0);
  }

  /** Blocks until this generation has stopped; returns the process exit code. */
  public int awaitExit() {
    return exitCode.join();
  }

  public long generation() {
    return generation;
  }

  /** Whether this process is the active one: accepting, not taking over, draining or stopped. */
  public boolean isServing() {
    return lifecycle.phase() == Phase.SERVING;
  }

  public BatonMetrics metrics() {
    return metrics;
  }

}
