package io.baton.sidecar.server;

import io.baton.handoff.Arrival;
import io.baton.handoff.CarriedCounter;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.Drain;
import io.baton.handoff.Handoff;
import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.InheritedListener;
import io.baton.handoff.PassableListener;
import io.baton.sidecar.admin.AdminInitializer;
import io.baton.sidecar.admin.ClustersReport;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.config.ListenerProtocol;
import com.google.protobuf.Any;
import io.baton.sidecar.discovery.Discoveries;
import io.baton.sidecar.discovery.DiscoveryUnavailableException;
import io.baton.sidecar.drain.DeadlineScheduler;
import io.baton.sidecar.drain.DrainController;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.httpserver.CleartextHttpInitializer;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import io.baton.sidecar.listener.ConnectionObserver;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.migration.ConnectionAdopter;
import io.baton.sidecar.migration.ConnectionMover;
import io.baton.sidecar.migration.ConnectionResumer;
import io.baton.sidecar.http1.MovedHttp1Connection;
import io.baton.sidecar.tcp.MovedTcpPair;
import io.baton.sidecar.systemd.SocketActivation;
import io.baton.sidecar.systemd.SystemdNotifier;
import io.baton.sidecar.systemd.SystemdStatus;
import io.baton.sidecar.tcp.TcpRelayInitializer;
import io.baton.sidecar.tls.ServerTls;
import io.baton.sidecar.tls.SessionTickets;
import io.baton.sidecar.httpserver.TlsListenerInitializer;
import java.security.SecureRandom;
import io.baton.sidecar.upstream.Cluster;
import io.netty.channel.ChannelHandler;
import io.netty.channel.unix.FileDescriptor;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.proto.admin.v1.DrainStatus;
import io.baton.proto.admin.v1.ListenerStatus;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.sidecar.adminrpc.AdminRpcServer;
import io.baton.sidecar.memory.MemoryLimits;
import io.baton.sidecar.memory.MemoryWatch;
import io.baton.sidecar.warmup.WarmUp;
import io.baton.sidecar.adminrpc.AdminTarget;
import io.baton.sidecar.adminrpc.HandoffEventFeed;
import io.baton.sidecar.adminrpc.PeerPolicy;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import io.baton.sidecar.upgrade.UpgradeTrigger;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.OptionalLong;
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
  /** How often {@code baton watch} hears how the drain goes. */
  private static final long DRAIN_PROGRESS_EVERY_MS = 250;

  private final BatonConfig config;
  private final Handoff handoff;
  private final BatonMetrics metrics;
  private final Lifecycle lifecycle = new Lifecycle();
  private final DrainState drainState = new DrainState();
  private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
  private final HandoffEventFeed feed;
  private EventLoops loops;
  private AdminRpcServer adminRpc;
  private NextGenerationLauncher launcher;
  private String buildVersion = "";
  private Invocation invocation;
  private ListenerSet listeners;
  private Discoveries discoveries;
  /** Built before the listeners; read by the handoff thread when a successor asks. */
  private volatile SessionTickets tickets = SessionTickets.none();
  private long generation;
  private DrainController drain;
  private MemoryWatch memory;
  /**
   * systemd follows this process ({@code NOTIFY_SOCKET}): the next generation is started as
   * systemd's child, so that systemd supervises its new main process as its own.
   */
  private boolean underSystemd;
  /** The generation this one took over from (its pid as it said it), 0 after a cold start. */
  private long predecessorPid;
  /** Set while this process drains because a successor took over (not for SIGTERM). */
  private volatile boolean drainingForSuccessor;

  private SidecarServer(BatonConfig config, Handoff handoff, BatonMetrics metrics, HandoffEventFeed feed) {
    this.config = config;
    this.handoff = handoff;
    this.metrics = metrics;
    this.feed = feed;
    lifecycle.observe(phase -> metrics.setReady(phase == Phase.SERVING));
    lifecycle.observe(phase -> metrics.setDraining(phase == Phase.DRAINING));
    lifecycle.observe(phase -> feed.publish(phase.name().toLowerCase(Locale.ROOT), "", null));
  }

  /** A generation ready to {@link #start}: its handoff endpoint open, nothing bound or received yet. */
  public static SidecarServer create(BatonConfig config, HandoffSettings settings, Invocation invocation)
      throws StartupException {
    BatonMetrics metrics = new BatonMetrics();
    HandoffEventFeed feed = new HandoffEventFeed(Clock.systemUTC());
    SystemdNotifier notifier = SystemdNotifier.fromEnvironment();
    SystemdStatus systemd = new SystemdStatus(notifier, config.listeners().size());
    Handoff handoff;
    try {
      handoff = Handoff.open(settings, new FanOutHandoffEvents(new MetricsHandoffEvents(metrics, feed), systemd));
    } catch (HandoffException e) {
      throw new StartupException(e.getMessage(), e);
    }
    SidecarServer server = new SidecarServer(config, handoff, metrics, feed);
    server.memory = MemoryWatch.start(MemoryLimits.ofThisProcess(), metrics.registry());
    systemd.follow(server.lifecycle, server::generation);
    server.buildVersion = settings.buildVersion();
    server.invocation = invocation;
    server.underSystemd = notifier.isEnabled();
    return server;
  }

  /**
   * Starts this generation (a cold start or a takeover) and returns once it serves, its serving
   * line printed on {@code out}; or, if a held takeover was aborted, once it drained and stopped.
   *
   * @throws StartupException with the reason; anything received from a predecessor has been
   *     released and the predecessor told, so it serves on
   */
  public void start(PrintStream out) throws StartupException {
    startServing(out);
  }

  /**
   * How this process was started, so that it can start the next generation the same way.
   *
   * @param configFile the config file it read
   * @param commandLine its command line (java, options, -jar, the jar, run --config FILE)
   * @param supervisor the pid of the {@code baton launch} that started it, if one did
   */
  public record Invocation(Path configFile, List<String> commandLine, OptionalLong supervisor) {}

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
    List<Any> carriedState = List.of();
    if (arrival instanceof Arrival.Takeover takeover) {
      carriedState = takeover.carriedState();
      generation = takeover.generation();
      predecessorPid = takeover.predecessorPid();
      takeover.listeners().forEach(l -> inherited.put(l.name(), l));
      metrics.setListenersInherited(inherited.size());
      metrics.carrier().continueFrom(takeover.counters());
      lifecycle.moveTo(Phase.TAKING_OVER, "received " + inherited.size() + " listeners from generation "
          + (generation - 1) + " (pid " + takeover.predecessorPid() + ", " + takeover.predecessorVersion() + ")");
      SocketActivation.fromEnvironment().closeAll("generation " + generation + " serves its predecessor's sockets");
    } else {
      generation = 1;
      log.info("cold start: no active process owns {}", config.runDir());
      inherited.putAll(SocketActivation.fromEnvironment().claim(config));
    }
    metrics.setGeneration(generation);
    feed.setGeneration(generation);

    try {
      loops = EventLoops.start(Runtime.getRuntime().availableProcessors());
      Map<String, Cluster> clusters = new LinkedHashMap<>();
      config.clusters().forEach(c -> clusters.put(c.name(), new Cluster(c, metrics.cluster(c.name()))));
      discoveries = Discoveries.of(config.clusters(), clusters, metrics, Clock.systemUTC());
      discoveries.start(carriedState);
      tickets = SessionTickets.start(carriedState,
          config.listeners().stream().filter(ListenerConfig::isTls).map(ListenerConfig::name).toList(), new SecureRandom());
      listeners = openListeners(clusters, inherited, adopted);
      launcher = new NextGenerationLauncher(invocation.commandLine(), invocation.configFile(), config.runDir(), generation,
          this::isServing, metrics, invocation.supervisor(), underSystemd);
      adminRpc = AdminRpcServer.start(handoff.ownSocketPath(AdminRpcServer.SOCKET_NAME), new AdminView(), new PeerPolicy(ownUid(), true), loops.group());
    } catch (IOException | DiscoveryUnavailableException | RuntimeException e) {
      String reason = "generation " + generation + " cannot serve: " + e.getMessage();
      inherited.values().forEach(SidecarServer::closeFd);
      handoff.abort(reason);
      handoff.close();
      if (discoveries != null) {
        discoveries.close();
      }
      if (adminRpc != null) {
        adminRpc.close();
      }
      if (listeners != null) {
        listeners.closeAll();
      }
      if (loops != null) {
        loops.close();
      }
      throw new StartupException(reason, e);
    }

    if (arrival instanceof Arrival.Takeover) {
      // Before Ready, while the predecessor still serves everyone: the connections this process
      // takes over then meet loaded classes and compiled code, not a cold JVM.
      WarmUp.run(loops.group(), config.listeners(), config.clusters(), generation, config.drain().http2GoawayDelay(),
          new WarmUp.Budget(config.handoff().warmUpRequests(), config.handoff().warmUpTimeout()));
    }
    // Accepting and saying Ready are one step: a connection accepted from here on is one this
    // process can serve, because everything it needs was built above.
    listeners.startAcceptingData();
    try {
      handoff.serve(new Source(), adopted, connectionAdopter());
    } catch (HandoffAbortedException e) {
      log.warn("generation {}: {}; draining the {} connection(s) it accepted, then exiting", generation, e.getMessage(),
          listeners.openConnections());
      drainAndStop(e.getMessage());
      return;
    } catch (HandoffException e) {
      // We accept already; the predecessor either stopped (then we are the only server) or never
      // heard Ready (then both accept from the same queues): either way nothing is lost.
      log.error("handoff after Ready did not complete cleanly: {}", e.getMessage());
    }
    // Admin only now: serve() returned once the predecessor stopped accepting and its counters up
    // to then were added, so no scrape here reads lower than one the predecessor answered.
    listeners.admin().startAccepting();
    adminRpc.publish();
    lifecycle.moveTo(Phase.SERVING, "accepting on " + listeners.data().size() + " listeners + admin");
    // Stopped on a thread of its own: stop() closes the handoff, whose thread completes this future.
    handoff.successorTookOver().whenComplete((outcome, failure) ->
        new Thread(() -> stop("generation " + (generation + 1) + " took over and the drain finished"), "baton-stop").start());
    log.info("generation {} serving after {} ms", generation, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    out.println(ServingLine.of(generation, ProcessHandle.current().pid(), handoff.instanceId(), listeners));
    out.flush();
  }

  /** Serves the connections the predecessor moves here, each kind by its own protocol. */
  private ConnectionAdopter connectionAdopter() {
    Map<String, ServingSocket> sockets = new LinkedHashMap<>();
    Map<String, String> protocols = new LinkedHashMap<>();
    for (ServingSocket s : listeners.data()) {
      sockets.put(s.name(), s);
      protocols.put(s.name(), s.protocol());
    }
    List<ConnectionResumer> resumers = List.of(new MovedHttp1Connection(sockets, listeners.contexts()),
        new MovedTcpPair(sockets, listeners.contexts()));
    return new ConnectionAdopter(protocols, resumers, metrics);
  }

  private ListenerSet openListeners(Map<String, Cluster> clusters, Map<String, InheritedListener> inherited,
      Set<String> adopted) throws IOException {
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
            drainState, generation, config.admin().servingHeader(), config.drain().http2GoawayDelay());
        contexts.put(lc.name(), ctx);
        if (lc.protocol() == ListenerProtocol.HTTP) {
          // Every h2 series at 0 from the start (HTTP/1.1's always are): dashboards and alerts on
          // them have data before the first HTTP/2 client, and rate() a first sample.
          metrics.listener(lc.name()).exportHttp2();
        }
        ChannelHandler initializer = switch (lc.protocol()) {
          case HTTP -> lc.tls().isPresent()
              // Certificate and key read now: a handoff is how they are rotated.
              ? new TlsListenerInitializer(ctx, ServerTls.build(lc.name(), lc.tls().get(), tickets.ring(lc.name())),
                  metrics.tls(lc.name()))
              : new CleartextHttpInitializer(ctx);
          case TCP -> new TcpRelayInitializer(ctx);
        };
        data.add(open(lc.name(), lc.address(), lc.protocol().wireName(), inherited.remove(lc.name()), initializer, counting, adopted));
      }
      AdminInitializer adminInit = new AdminInitializer(metrics, () -> lifecycle.phase() == Phase.SERVING,
          new ClustersReport(List.copyOf(clusters.values()), discoveries));
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
    public List<Any> carriedState() {
      // Each kind of state is its own message type; the successor picks its own by Any.is.
      List<Any> state = new ArrayList<>(discoveries.carriedState());
      state.addAll(tickets.carriedState());
      return state;
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
        drainingForSuccessor = true;
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
        drainingForSuccessor = false;
        drainState.set(DrainState.Mode.SERVING);
        drainState.setMover(ConnectionMover.OFF);
        listeners.resumeAccepting();
        adminRpc.publish();
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
    var progress = loops.group().next().scheduleAtFixedRate(
        () -> feed.publish("drain_progress", "", drainStatus()), 0, DRAIN_PROGRESS_EVERY_MS, TimeUnit.MILLISECONDS);
    // Reported before the completion completes: whoever waits for it (the handoff) may stop the
    // process next, and a `baton watch` must still hear that the drain finished.
    drain.whenFinishing(outcome -> {
      progress.cancel(false);
      metrics.drainFinished(outcome.took());
      feed.publish("drain_finished", "in " + outcome.took().toMillis() + " ms", drainStatus());
    });
    return drain.begin();
  }

  /**
   * SIGTERM: drain without a successor and stop. Waits at most the drain timeout plus a margin.
   * If a successor already took over, waits for that drain instead. While this process, taking
   * over, is held: gives the takeover up (the predecessor serves on) and lets the starting thread
   * drain what was accepted. Returns false when this process has not started serving and holds
   * nothing to drain: the caller should simply exit.
   */
  public boolean shutdownGracefully(String why) {
    Phase phase = lifecycle.phase();
    if (phase == Phase.STARTING || phase == Phase.TAKING_OVER) {
      if (handoff.giveUpHeldTakeover(why)) {
        log.info("{}: giving the held takeover up; the predecessor serves on", why);
        return true;
      }
      log.warn("{} while generation {} is starting: exiting without serving", why, generation);
      return false;
    }
    drainAndStop(why);
    return true;
  }

  private void drainAndStop(String why) {
    try {
      DrainController current;
      synchronized (this) {
        if (lifecycle.tryMoveTo(Phase.DRAINING, why)) {
          // The service stops: a predecessor still draining must not roll back when we exit.
          handoff.stopping(why);
          // Keep admin up: an orchestrator watching /ready must see 503, not a refused connection.
          startDrain(false);
        }
        current = drain;
      }
      if (current != null) {
        CompletableFuture<?> done = current.completion().toCompletableFuture();
        long waitMillis = config.drain().timeout().toMillis() + 5000;
        if (drainingForSuccessor) {
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
          done = done.thenCompose(outcome -> {
            if (!handoff.drainingPredecessors().isEmpty()) {
              log.info("{}: generation {} drained; waiting for the older generation(s) still draining before exiting", why,
                  generation);
            }
            return handoff.predecessorsGone();
          }).thenCompose(gone -> exitOf(older));
          waitMillis += config.handoff().stepTimeout().toMillis();
        }
        waitMillis += config.handoff().stepTimeout().toMillis();
        done.handle((result, failure) -> null)
            .completeOnTimeout(null, waitMillis, TimeUnit.MILLISECONDS)
            .join();
      }
    } catch (RuntimeException e) {
      log.error("{}: the drain failed ({}); stopping now", why, e.toString(), e);
    } finally {
      stop(why); // whatever happened above: a process asked to stop must not hang
    }
  }

  /**
   * Completes when every process of {@code pids} has exited, or after the step timeout. Pids, not
   * sockets: a predecessor closes its control connection when its drain is done, before its JVM
   * has exited. Used under systemd only, where the older generations are in our pid namespace.
   */
  private CompletableFuture<Void> exitOf(List<Long> pids) {
    CompletableFuture<?>[] exits = pids.stream()
        .map(pid -> ProcessHandle.of(pid).map(ProcessHandle::onExit).orElse(CompletableFuture.completedFuture(null)))
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(exits)
        .completeOnTimeout(null, config.handoff().stepTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** SIGWINCH or `baton commit`: a held successor takes over, this process drains. */
  public boolean commitHeldSuccessor(String why) {
    boolean held = handoff.commitHeldSuccessor(why);
    if (!held) {
      log.warn("{}: no successor is held (a commit applies only to `baton upgrade --hold` / handoff.hold)", why);
    }
    return held;
  }

  /** `baton abort`: a held successor drains and exits, this process serves on. */
  public boolean abortHeldSuccessor(String why) {
    boolean held = handoff.abortHeldSuccessor(why);
    if (!held) {
      log.warn("{}: no successor is held (an abort applies only to `baton upgrade --hold` / handoff.hold)", why);
    }
    return held;
  }

  /** SIGUSR2, SIGHUP: the next generation, once this one serves. */
  public void requestNextGeneration(UpgradeTrigger trigger) {
    NextGenerationLauncher current = launcher;
    if (current == null) {
      log.warn("{}: generation {} is still starting: no new generation started", trigger.label(), generation);
      return;
    }
    current.launch(trigger);
  }

  private synchronized void stop(String why) {
    if (!lifecycle.tryMoveTo(Phase.STOPPED, why)) {
      return;
    }
    // Each step on its own: a failure to release one thing (e.g. the run directory removed under
    // us) must not keep the process from exiting.
    try {
      releaseQuietly("watch streams", feed::end);
      CompletableFuture<?> tookOver = handoff.successorTookOver();
      releaseQuietly("admin.sock", () -> adminRpc.close(tookOver.isDone() && !tookOver.isCompletedExceptionally()));
      releaseQuietly("listeners", listeners::closeAll);
      releaseQuietly("the handoff sockets", handoff::close);
      releaseQuietly("the etcd watches", discoveries::close);
      releaseQuietly("the event loops", loops::close);
      releaseQuietly("the memory watch", memory::close);
    } finally {
      exitCode.complete(0);
    }
  }

  private static void releaseQuietly(String what, Runnable release) {
    try {
      release.run();
    } catch (RuntimeException e) {
      log.error("stopping: releasing {} failed: {}", what, e.toString(), e);
    }
  }

  private DrainStatus drainStatus() {
    return DrainStatus.newBuilder()
        .setConnectionsLeft(listeners.openConnections())
        .setRequestsLeft(listeners.activeRequests())
        .setConnectionsMigrated(drainState.mover().sent())
        .build();
  }

  /** What the admin API sees and does. */
  private final class AdminView implements AdminTarget {

    @Override
    public StatusReply status() {
      StatusReply.Builder reply = StatusReply.newBuilder()
          .setGeneration(generation)
          .setPhase(lifecycle.phase().name())
          .setPid(ProcessHandle.current().pid())
          .setInstanceId(handoff.instanceId())
          .setBuildVersion(buildVersion)
          .setHandoffProtocolVersion(Handoff.protocolVersion())
          .setHandoffProtocolRevision(io.baton.handoff.wire.ProtocolVersion.REVISION)
          .setConnectionsActive(listeners.openConnections())
          .setRequestsActive(listeners.activeRequests())
          .setRunDir(config.runDir().toString())
          .setConfigFile(invocation.configFile().toAbsolutePath().toString());
      for (ServingSocket s : listeners.data()) {
        reply.addListeners(ListenerStatus.newBuilder()
            .setName(s.name())
            .setProtocol(s.protocol())
            .setConfiguredAddress(s.configuredAddress().toString())
            .setBoundAddress(ServingLine.format(s.boundAddress()))
            .setConnectionsActive(s.openConnections()));
      }
      if (lifecycle.phase() == Phase.DRAINING) {
        reply.setDrain(drainStatus());
      }
      handoff.predecessorProgress().ifPresent(p -> reply.setPredecessorDrain(DrainStatus.newBuilder()
          .setConnectionsLeft(p.connectionsActive())
          .setRequestsLeft(p.requestsActive())
          .setConnectionsMigrated(p.connectionsMigrated())));
      for (io.baton.handoff.PredecessorDrain p : handoff.drainingPredecessors()) {
        reply.addDrainingPredecessors(io.baton.proto.admin.v1.PredecessorDrainStatus.newBuilder()
            .setGeneration(p.generation())
            .setPid(p.pid())
            .setDrain(DrainStatus.newBuilder()
                .setConnectionsLeft(p.progress().connectionsActive())
                .setRequestsLeft(p.progress().requestsActive())
                .setConnectionsMigrated(p.progress().connectionsMigrated())));
      }
      return reply.build();
    }

    @Override
    public NextGenerationLauncher.Launch upgrade(Path jar, Path config, boolean hold) {
      return launcher.launch(UpgradeTrigger.ADMIN, jar, config, hold);
    }

    @Override
    public boolean commit() {
      return commitHeldSuccessor("baton commit (admin.sock)");
    }

    @Override
    public boolean abort(String reason) {
      return abortHeldSuccessor(reason + " (admin.sock)");
    }

    @Override
    public long drain() {
      long open = listeners.openConnections();
      new Thread(() -> drainAndStop("baton drain (admin.sock)"), "baton-admin-drain").start();
      return open;
    }

    @Override
    public HandoffEventFeed events() {
      return feed;
    }
  }

  private static long ownUid() throws IOException {
    try {
      return Fds.ownUid();
    } catch (OsException e) {
      throw new IOException("own uid: " + e.getMessage() + " (expected it, to check admin.sock callers)", e);
    }
  }

  /** Starts the next generation; what SIGUSR2, SIGHUP and the admin API's Upgrade use. */
  public NextGenerationLauncher launcher() {
    return launcher;
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
