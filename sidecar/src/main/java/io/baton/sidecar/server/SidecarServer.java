package io.baton.sidecar.server;

import com.google.protobuf.Any;
import io.baton.handoff.Arrival;
import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.InheritedListener;
import io.baton.handoff.process.Handoff;
import io.baton.proto.admin.v1.StatusReply;
import io.baton.sidecar.adminrpc.AdminRpcServer;
import io.baton.sidecar.adminrpc.AdminTarget;
import io.baton.sidecar.adminrpc.HandoffEventFeed;
import io.baton.sidecar.adminrpc.PeerPolicy;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ListenerConfig;
import io.baton.sidecar.discovery.Discoveries;
import io.baton.sidecar.discovery.DiscoveryUnavailableException;
import io.baton.sidecar.drain.DrainController;
import io.baton.sidecar.drain.DrainState;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import io.baton.sidecar.listener.EventLoops;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.memory.MemoryLimits;
import io.baton.sidecar.memory.MemoryWatch;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.migration.ConnectionAdopter;
import io.baton.sidecar.systemd.SocketActivation;
import io.baton.sidecar.systemd.SystemdNotifier;
import io.baton.sidecar.systemd.SystemdStatus;
import io.baton.sidecar.tls.SessionTickets;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import io.baton.sidecar.upgrade.UpgradeTrigger;
import io.baton.sidecar.upstream.Cluster;
import io.baton.sidecar.warmup.WarmUp;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One generation of Baton: takes over from the active process or starts cold, serves, and hands
 * over to its successor (or drains on SIGTERM), then stops.
 *
 * <p>This class starts the generation and answers the operator (signals, admin.sock); the roles it
 * assembles each have a class: {@link ListenerAssembly} builds the listeners and their pipelines,
 * {@link HandoffSourceAdapter} is what the successor sees, {@link GenerationDrain} drains, {@link
 * Releases} lets go at the stop, {@link StatusReport} answers {@code baton status}.
 */
public final class SidecarServer {

  private static final Logger log = LoggerFactory.getLogger(SidecarServer.class);

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

  /** Built with the listeners; what a successor, SIGTERM or `baton drain` starts. */
  private volatile GenerationDrain drain;

  private MemoryWatch memory;

  /**
   * systemd follows this process ({@code NOTIFY_SOCKET}): the next generation is started as
   * systemd's child, so that systemd supervises its new main process as its own.
   */
  private boolean underSystemd;

  /** The generation this one took over from (its pid as it said it), 0 after a cold start. */
  private long predecessorPid;

  private SidecarServer(
      BatonConfig config, Handoff handoff, BatonMetrics metrics, HandoffEventFeed feed) {
    this.config = config;
    this.handoff = handoff;
    this.metrics = metrics;
    this.feed = feed;
    lifecycle.observe(phase -> metrics.setReady(phase == Phase.SERVING));
    lifecycle.observe(phase -> metrics.setDraining(phase == Phase.DRAINING));
    lifecycle.observe(phase -> feed.publish(phase.name().toLowerCase(Locale.ROOT), "", null));
  }

  /**
   * A generation ready to {@link #start}: its handoff endpoint open, nothing bound or received yet.
   */
  public static SidecarServer create(
      BatonConfig config, HandoffSettings settings, Invocation invocation) throws StartupException {
    BatonMetrics metrics = new BatonMetrics();
    HandoffEventFeed feed = new HandoffEventFeed(Clock.systemUTC());
    SystemdNotifier notifier = SystemdNotifier.fromEnvironment();
    SystemdStatus systemd = new SystemdStatus(notifier, config.listeners().size());
    Handoff handoff;
    try {
      handoff =
          Handoff.open(
              settings, new FanOutHandoffEvents(new MetricsHandoffEvents(metrics, feed), systemd));
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
      lifecycle.moveTo(
          Phase.TAKING_OVER,
          "received "
              + inherited.size()
              + " listeners from generation "
              + (generation - 1)
              + " (pid "
              + takeover.predecessorPid()
              + ", "
              + takeover.predecessorVersion()
              + ")");
      SocketActivation.fromEnvironment()
          .closeAll("generation " + generation + " serves its predecessor's sockets");
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
      config
          .clusters()
          .forEach(c -> clusters.put(c.name(), new Cluster(c, metrics.cluster(c.name()))));
      discoveries = Discoveries.of(config.clusters(), clusters, metrics, Clock.systemUTC());
      discoveries.start(carriedState);
      tickets =
          SessionTickets.start(
              carriedState,
              config.listeners().stream()
                  .filter(ListenerConfig::isTls)
                  .map(ListenerConfig::name)
                  .toList(),
              new SecureRandom());
      listeners =
          new ListenerAssembly(config, metrics, loops)
              .open(
                  clusters,
                  discoveries,
                  tickets,
                  drainState,
                  generation,
                  inherited,
                  adopted,
                  this::connectionClosed,
                  this::isServing);
      drain =
          new GenerationDrain(
              config,
              handoff,
              drainState,
              listeners,
              loops,
              feed,
              metrics,
              generation,
              predecessorPid,
              underSystemd);
      launcher =
          new NextGenerationLauncher(
              invocation.commandLine(),
              invocation.configFile(),
              config.runDir(),
              generation,
              this::isServing,
              metrics,
              invocation.supervisor(),
              underSystemd);
      adminRpc =
          AdminRpcServer.start(
              handoff.ownSocketPath(AdminRpcServer.SOCKET_NAME),
              new AdminView(),
              new PeerPolicy(ownUid(), true),
              loops.group());
    } catch (IOException | DiscoveryUnavailableException | RuntimeException e) {
      String reason = "generation " + generation + " cannot serve: " + e.getMessage();
      inherited.values().forEach(ListenerAssembly::closeFd);
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
      WarmUp.run(
          loops.group(),
          config.listeners(),
          config.clusters(),
          generation,
          config.drain().http2GoawayDelay(),
          new WarmUp.Budget(config.handoff().warmUpRequests(), config.handoff().warmUpTimeout()));
    }
    // Accepting and saying Ready are one step: a connection accepted from here on is one this
    // process can serve, because everything it needs was built above.
    listeners.startAcceptingData();
    try {
      ConnectionAdopter adopter = ListenerAssembly.connectionAdopter(listeners, metrics);
      HandoffSource source =
          new HandoffSourceAdapter(
              this,
              generation,
              listeners,
              metrics,
              discoveries,
              tickets,
              drain,
              lifecycle,
              adminRpc,
              adopter);
      handoff.serve(source, adopted, adopter);
    } catch (HandoffAbortedException e) {
      log.warn(
          "generation {}: {}; draining the {} connection(s) it accepted, then exiting",
          generation,
          e.getMessage(),
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
    lifecycle.moveTo(
        Phase.SERVING, "accepting on " + listeners.data().size() + " listeners + admin");
    // Stopped on a thread of its own: stop() closes the handoff, whose thread completes this
    // future.
    handoff
        .successorTookOver()
        .whenComplete(
            (outcome, failure) ->
                new Thread(
                        () ->
                            stop(
                                "generation "
                                    + (generation + 1)
                                    + " took over and the drain finished"),
                        "baton-stop")
                    .start());
    log.info(
        "generation {} serving after {} ms",
        generation,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    out.println(
        ServingLine.of(generation, ProcessHandle.current().pid(), handoff.instanceId(), listeners));
    out.flush();
  }

  /**
   * SIGTERM: drain without a successor and stop. Waits at most the drain timeout plus a margin. If
   * a successor already took over, waits for that drain instead. While this process, taking over,
   * is held: gives the takeover up (the predecessor serves on) and lets the starting thread drain
   * what was accepted. Returns false when this process has not started serving and holds nothing to
   * drain: the caller should simply exit.
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

  /** A client connection of {@code socket} closed; before the listeners exist nothing drains. */
  private void connectionClosed(ServingSocket socket) {
    GenerationDrain d = drain;
    if (d != null) {
      d.connectionClosed(socket);
    }
  }

  private void drainAndStop(String why) {
    try {
      DrainController current;
      synchronized (this) {
        if (lifecycle.tryMoveTo(Phase.DRAINING, why)) {
          // The service stops: a predecessor still draining must not roll back when we exit.
          handoff.stopping(why);
          // Keep admin up: an orchestrator watching /ready must see 503, not a refused connection.
          drain.start(false);
        }
        current = drain == null ? null : drain.current();
      }
      if (current != null) {
        drain.end(current, why).join();
      }
    } catch (RuntimeException e) {
      log.error("{}: the drain failed ({}); stopping now", why, e.toString(), e);
    } finally {
      stop(why); // whatever happened above: a process asked to stop must not hang
    }
  }

  /** SIGWINCH or `baton commit`: a held successor takes over, this process drains. */
  public boolean commitHeldSuccessor(String why) {
    boolean held = handoff.commitHeldSuccessor(why);
    if (!held) {
      log.warn(
          "{}: no successor is held (a commit applies only to `baton upgrade --hold` /"
              + " handoff.hold)",
          why);
    }
    return held;
  }

  /** `baton abort`: a held successor drains and exits, this process serves on. */
  public boolean abortHeldSuccessor(String why) {
    boolean held = handoff.abortHeldSuccessor(why);
    if (!held) {
      log.warn(
          "{}: no successor is held (an abort applies only to `baton upgrade --hold` /"
              + " handoff.hold)",
          why);
    }
    return held;
  }

  /** SIGUSR2, SIGHUP: the next generation, once this one serves. */
  public void requestNextGeneration(UpgradeTrigger trigger) {
    NextGenerationLauncher current = launcher;
    if (current == null) {
      log.warn(
          "{}: generation {} is still starting: no new generation started",
          trigger.label(),
          generation);
      return;
    }
    current.launch(trigger);
  }

  private synchronized void stop(String why) {
    if (!lifecycle.tryMoveTo(Phase.STOPPED, why)) {
      return;
    }
    try {
      CompletableFuture<?> tookOver = handoff.successorTookOver();
      new Releases()
          .then("watch streams", feed::end)
          .then(
              "admin.sock",
              () -> adminRpc.close(tookOver.isDone() && !tookOver.isCompletedExceptionally()))
          .then("listeners", listeners::closeAll)
          .then("the handoff sockets", handoff::close)
          .then("the etcd watches", discoveries::close)
          .then("the event loops", loops::close)
          .then("the memory watch", memory::close)
          .releaseAll();
    } finally {
      exitCode.complete(0);
    }
  }

  /** What the admin API sees and does. */
  private final class AdminView implements AdminTarget {

    @Override
    public StatusReply status() {
      return new StatusReport(
              generation,
              lifecycle,
              handoff,
              buildVersion,
              listeners,
              config.runDir(),
              invocation.configFile(),
              drain::status)
          .build();
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
      return Handoff.ownUid();
    } catch (HandoffException e) {
      throw new IOException(
          "own uid: " + e.getMessage() + " (expected it, to check admin.sock callers)", e);
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
