package io.baton.handoff.incoming;

import com.google.protobuf.Any;
import io.baton.handoff.Arrival;
import io.baton.handoff.CarriedCounter;
import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffRefusedException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.IncomingStep;
import io.baton.handoff.InheritedListener;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.migration.ConnectionReceiver;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.state.StateMachine;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.CounterValues;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Abort;
import io.baton.proto.handoff.v1.DrainFinished;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.HandedOn;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.ListenSocketReady;
import io.baton.proto.handoff.v1.ListenerDescriptor;
import io.baton.proto.handoff.v1.Listeners;
import io.baton.proto.handoff.v1.ListenersReceived;
import io.baton.proto.handoff.v1.Ready;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.proto.handoff.v1.Welcome;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incoming side: asks the active process for the baton ({@link #arrive}), then says Ready and
 * takes {@code reconfig.sock} over ({@link #ready}), and follows the predecessor's drain.
 *
 * <p>The connection to the predecessor's {@code reconfig.sock} stays open until it has finished
 * draining: its EOF is how each side sees the other die.
 *
 * <p>It tells this process's outgoing side (through the facade) which older generations still drain
 * (the predecessor, and those it relays), and carries {@code HandedOn} to the predecessor when this
 * process hands over in turn (or stops) while it drains.
 *
 * <p>Where it is in the protocol is one {@link IncomingState}, changed only through its checked
 * transition table: by the thread that arrives and says Ready, by the thread that follows the
 * predecessor's drain, by the one that gives a held takeover up or hands on, and by {@link #close}.
 * A move that races with {@link #close} loses quietly; any other move the table does not list
 * throws.
 */
public final class IncomingHandoff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(IncomingHandoff.class);

  /** After Draining the predecessor only streams progress; this bounds each wait, not the drain. */
  static final Duration FOLLOW_WAKEUP = Duration.ofMinutes(1);

  /**
   * How long a process that handed over waits for its predecessor to finish when that one did not
   * say its drain deadline (Draining.deadline_unix_millis unset).
   */
  static final Duration UNKNOWN_DEADLINE_WAIT = Duration.ofMinutes(10);

  private final RunDirectory runDir;
  private final HandoffSettings settings;
  private final HandoffEvents events;
  private final PeerCheck peers;
  private ControlChannel reconfig;
  private UnixServer listenServer;

  /** Bound with listen.sock; after Ready it receives the predecessor's live connections. */
  private UnixServer connServer;

  private ConnectionReceiver connReceiver;
  private long generation;

  /** Who the predecessor said it is in Welcome. */
  private ProcessIdentity predecessor = new ProcessIdentity(0, 0, "");

  private long stepStarted;
  private final StateMachine<IncomingState> machine;
  private final AtomicReference<DrainProgress> predecessorProgress = new AtomicReference<>();

  /** What the predecessor relayed about the generations older than itself that still drain. */
  private final AtomicReference<List<PredecessorDrain>> olderDraining =
      new AtomicReference<>(List.of());

  /** The predecessor's Welcome.protocol_revision (1 when unset). */
  private int predecessorRevision = 1;

  /** When the predecessor's drain deadline passes (unix millis), 0 if it did not say. */
  private volatile long predecessorDeadlineMillis;

  private final CompletableFuture<Void> predecessorGone = new CompletableFuture<>();

  /**
   * Why this process gave its held takeover up (read in {@link IncomingState#GIVING_UP}): the wait
   * then ends as an abort.
   */
  private volatile String givenUpReason;

  public IncomingHandoff(RunDirectory runDir, HandoffSettings settings, HandoffEvents events)
      throws OsException {
    this.runDir = runDir;
    this.settings = settings;
    this.events = events;
    this.peers = new PeerCheck(Fds.ownUid(), runDir.self());
    this.machine = new StateMachine<>("incoming handoff in " + runDir, IncomingState.STARTING);
  }

  /** Where this side is in the protocol. */
  public IncomingState state() {
    return machine.state();
  }

  /**
   * From {@link IncomingState#STARTING} to {@link IncomingState#COLD_START} (nobody to take over
   * from), or through {@link IncomingState#TAKING_OVER} up to the predecessor's listeners (the
   * sequence is in {@code handoff.proto}'s header).
   */
  public Arrival arrive() throws HandoffException {
    return arrive(() -> {});
  }

  /**
   * As {@link #arrive()}; {@code connected} runs as soon as an active process answered on {@code
   * reconfig.sock} (from then on this is a takeover, and the active process refuses a second one
   * itself).
   */
  public Arrival arrive(Runnable connected) throws HandoffException {
    Path reconfigPath = runDir.reconfigSocket();
    stepStarted = System.nanoTime();
    UnixConnection connection;
    try {
      connection = UnixConnection.connect(reconfigPath, settings.stepTimeout());
    } catch (OsException e) {
      if (e.kind() == OsException.Kind.NOT_FOUND) {
        log.info("handoff: no {}: cold start", reconfigPath);
        machine.moveTo(IncomingState.COLD_START);
        return new Arrival.ColdStart();
      }
      if (e.kind() == OsException.Kind.CONNECTION_REFUSED) {
        // A socket file nobody listens on: its owner was killed without cleaning up.
        log.info(
            "handoff: {} refuses connections (stale, its owner died): removing it, cold start",
            reconfigPath);
        runDir.remove(reconfigPath);
        machine.moveTo(IncomingState.COLD_START);
        return new Arrival.ColdStart();
      }
      throw new HandoffException(
          "handoff: cannot connect to the active process: " + e.getMessage(), e);
    }
    machine.moveTo(IncomingState.TAKING_OVER);
    connected.run();
    reconfig = new ControlChannel(connection);
    try {
      return takeOver();
    } catch (HandoffException | RuntimeException e) {
      closeQuietly();
      throw e;
    }
  }

  private Arrival takeOver() throws HandoffException {
    PeerCredentials peer = reconfig.peer();
    checkUid(peer, reconfig);
    ProcessIdentity self = peers.self();
    reconfig.send(
        ProtocolVersion.envelope()
            .setHello(
                Hello.newBuilder()
                    .setPid((int) self.pid())
                    .setPidNamespace(self.pidNamespace())
                    .setInstanceId(self.instanceId())
                    .setBuildVersion(settings.buildVersion())
                    .setHold(settings.hold().requested())
                    .setProtocolRevision(ProtocolVersion.REVISION))
            .build());
    Envelope answer =
        expect(reconfig, settings.stepTimeout(), Envelope.BodyCase.WELCOME, "Welcome");
    Welcome welcome = answer.getWelcome();
    ProcessIdentity claimed =
        new ProcessIdentity(welcome.getPid(), welcome.getPidNamespace(), welcome.getInstanceId());
    Optional<String> pidProblem =
        peers.pidProblem(
            "handoff: the process serving " + reconfig.path() + " (Welcome.pid)", peer, claimed);
    if (pidProblem.isPresent()) {
      throw new HandoffException(pidProblem.get());
    }
    predecessor = claimed;
    predecessorRevision = ProtocolVersion.revisionOf(welcome.getProtocolRevision());
    generation = welcome.getGeneration() + 1;
    step(
        "welcomed",
        "by "
            + predecessor
            + " build "
            + welcome.getBuildVersion()
            + " generation "
            + welcome.getGeneration());
    settings.stepObserver().reached(IncomingStep.WELCOMED);

    Path listenPath = runDir.listenSocket();
    runDir.remove(
        listenPath); // stale from a process that died mid-handoff; only one session at a time gets
    // here
    listenServer = UnixServer.bind(listenPath);
    Path connPath = runDir.connSocket();
    runDir.remove(connPath);
    connServer = UnixServer.bind(connPath);
    reconfig.send(
        ProtocolVersion.envelope()
            .setListenSocketReady(
                ListenSocketReady.newBuilder()
                    .setPath(listenPath.toString())
                    .setConnPath(connPath.toString()))
            .build());

    List<InheritedListener> inherited;
    List<CarriedCounter> counters;
    List<Any> carriedState;
    try (ControlChannel listen = new ControlChannel(listenServer.accept(settings.stepTimeout()))) {
      PeerCredentials listenPeer = listen.peer();
      checkUid(listenPeer, listen);
      Optional<String> listenPidProblem =
          peers.pidProblem(
              "handoff: the process that connected to " + listenPath, listenPeer, predecessor);
      if (listenPidProblem.isPresent()) {
        throw new HandoffException(listenPidProblem.get() + " (expected: the predecessor)");
      }
      ReceivedFrame frame = listen.receive(settings.stepTimeout());
      inherited = toInherited(frame, listenPath);
      counters = CounterValues.fromWire(frame.envelope().getListeners().getCountersList());
      carriedState = frame.envelope().getListeners().getCarriedStateList();
      listen.send(
          ProtocolVersion.envelope()
              .setListenersReceived(ListenersReceived.newBuilder().setCount(inherited.size()))
              .build());
    } catch (OsException e) {
      if (e.isTimeout()) {
        throw new HandoffException(
            "handoff: the predecessor did not pass its listeners on "
                + listenPath
                + " within "
                + settings.stepTimeout(),
            e);
      }
      throw e;
    } finally {
      closeListenServer();
    }
    step("listeners_received", inherited.size() + " listener(s)");
    settings.stepObserver().reached(IncomingStep.LISTENERS_RECEIVED);
    return new Arrival.Takeover(
        generation, welcome.getPid(), welcome.getBuildVersion(), inherited, counters, carriedState);
  }

  private static List<InheritedListener> toInherited(ReceivedFrame frame, Path path)
      throws ControlProtocolException {
    int[] fds = frame.fds();
    if (frame.bodyCase() != Envelope.BodyCase.LISTENERS) {
      frame.closeFds();
      throw new ControlProtocolException(
          RefusalReason.UNEXPECTED_MESSAGE,
          "on " + path + ": message " + frame.bodyCase() + " (expected: LISTENERS)");
    }
    Listeners listeners = frame.envelope().getListeners();
    if (listeners.getListenersCount() != fds.length) {
      frame.closeFds();
      throw new ControlProtocolException(
          RefusalReason.MALFORMED_MESSAGE,
          "on "
              + path
              + ": fds received: "
              + fds.length
              + " (expected: one per listener, "
              + listeners.getListenersCount()
              + ")");
    }
    List<InheritedListener> inherited = new ArrayList<>(fds.length);
    for (int i = 0; i < fds.length; i++) {
      ListenerDescriptor d = listeners.getListeners(i);
      inherited.add(new InheritedListener(d.getName(), d.getAddress(), d.getProtocol(), fds[i]));
    }
    return inherited;
  }

  /**
   * From {@link IncomingState#TAKING_OVER}: says Ready, waits for Draining ({@link
   * IncomingState#AWAITING_DRAINING} or {@link IncomingState#HELD}; a predecessor that dies instead
   * is logged: we serve anyway), renames {@code control} over {@code reconfig.sock}, and follows
   * the drain on a daemon thread ({@link IncomingState#FOLLOWING}).
   */
  public void ready(UnixServer control, Set<String> adoptedListeners, ConnectionArrivals arrivals)
      throws HandoffException {
    if (reconfig == null) {
      throw new IllegalStateException(
          "ready: no takeover in progress (expected: arrive() returned a Takeover)");
    }
    // Receiving before Ready: the predecessor may start sending as soon as it reads it.
    connReceiver =
        new ConnectionReceiver(
            connServer, peers, predecessor, generation, arrivals, events, settings.stepObserver());
    connReceiver.start();
    reconfig.send(
        ProtocolVersion.envelope()
            .setReady(Ready.newBuilder().addAllAdoptedListeners(adoptedListeners))
            .build());
    step("ready_sent", "accepting on every listener");
    settings.stepObserver().reached(IncomingStep.READY_SENT);
    boolean following = false;
    Duration drainingWithin = settings.stepTimeout();
    if (settings.hold().requested()) {
      drainingWithin =
          settings
              .hold()
              .timeout()
              .plus(settings.stepTimeout()); // the predecessor ends the hold itself
      machine.leaveFor(IncomingState.HELD);
      step(
          "held",
          "both generations accept until the operator commits or aborts, at most "
              + settings.hold().timeout());
    } else {
      machine.leaveFor(IncomingState.AWAITING_DRAINING);
    }
    try {
      Envelope draining;
      try {
        draining = expect(reconfig, drainingWithin, Envelope.BodyCase.DRAINING, "Draining");
      } catch (PeerClosedException e) {
        if (machine.state() == IncomingState.GIVING_UP) {
          throw new HandoffAbortedException(givenUpReason);
        }
        throw e;
      }
      // From GIVING_UP too: the predecessor's commit crossed our Abort; it stopped accepting, we
      // serve.
      machine.leaveFor(IncomingState.FOLLOWING);
      step("draining_acknowledged", "predecessor " + predecessor + " stopped accepting");
      predecessorDeadlineMillis = draining.getDraining().getDeadlineUnixMillis();
      olderDraining.set(fromWire(draining.getDraining().getPredecessorsList()));
      if (!olderDraining.get().isEmpty()) {
        log.info(
            "handoff (generation {}): {} older generation(s) still drain behind the predecessor:"
                + " {}",
            generation,
            olderDraining.get().size(),
            olderDraining.get());
      }
      events.predecessorStoppedAccepting(
          CounterValues.fromWire(draining.getDraining().getCountersList()));
      events.predecessorsDraining(draining());
      following = true;
    } catch (HandoffAbortedException e) {
      // Never published, never followed: the caller drains what this process accepted and stops.
      machine.leaveFor(IncomingState.ABORTED);
      step("hold_aborted", e.getMessage());
      reconfig.close();
      throw e;
    } catch (PeerClosedException e) {
      log.warn(
          "handoff (generation {}): predecessor {} closed {} instead of saying Draining (it died);"
              + " serving anyway",
          generation,
          predecessor,
          reconfig.path());
    } catch (HandoffException e) {
      log.warn(
          "handoff (generation {}): no Draining from predecessor {}: {}; serving anyway",
          generation,
          predecessor,
          e.getMessage());
      following = !reconfig.isClosed();
      if (following) {
        machine.leaveFor(
            IncomingState
                .FOLLOWING); // it may drain all the same: its EOF or DrainFinished will say
      }
    }
    control.publishAs(runDir.reconfigSocket());
    log.info(
        "handoff (generation {}): {} is now served by this process ({})",
        generation,
        runDir.reconfigSocket(),
        peers.self());
    if (following) {
      HandoffThreads.start("follow-predecessor", this::followDrain);
    } else {
      predecessorDone();
    }
  }

  /** Reads DrainProgress until DrainFinished or EOF (the predecessor exited). */
  private void followDrain() {
    ControlChannel channel = reconfig;
    try {
      while (!machine.state().isTerminal()) {
        ReceivedFrame frame;
        try {
          frame = channel.receive(FOLLOW_WAKEUP);
        } catch (OsException e) {
          if (e.isTimeout()) {
            continue;
          }
          throw e;
        }
        frame.closeFds();
        Envelope envelope = frame.envelope();
        switch (envelope.getBodyCase()) {
          case DRAIN_PROGRESS -> {
            io.baton.proto.handoff.v1.DrainProgress p = envelope.getDrainProgress();
            DrainProgress progress =
                new DrainProgress(
                    p.getConnectionsActive(), p.getRequestsActive(), p.getConnectionsMigrated());
            olderDraining.set(fromWire(p.getPredecessorsList()));
            predecessorProgress.set(progress);
            events.predecessorProgress(progress);
            events.predecessorsDraining(draining());
          }
          case DRAIN_FINISHED -> {
            DrainFinished finished = envelope.getDrainFinished();
            step(
                "predecessor_drained",
                "predecessor "
                    + predecessor
                    + " drained in "
                    + finished.getDrainSeconds()
                    + " s, "
                    + finished.getConnectionsMigrated()
                    + " connection(s) moved here, "
                    + finished.getConnectionsClosedAtDeadline()
                    + " closed at its deadline");
            events.predecessorDrained(
                CounterValues.fromWire(finished.getFinalCountersList()),
                finished.getConnectionsMigrated(),
                Duration.ofNanos((long) (finished.getDrainSeconds() * 1e9)));
            return;
          }
          default ->
              log.warn(
                  "handoff (generation {}): ignoring {} from predecessor {} on {} (expected:"
                      + " DRAIN_PROGRESS or DRAIN_FINISHED)",
                  generation,
                  envelope.getBodyCase(),
                  predecessor,
                  channel.path());
        }
      }
    } catch (PeerClosedException e) {
      log.info(
          "handoff (generation {}): predecessor {} closed {}: it exited",
          generation,
          predecessor,
          channel.path());
    } catch (HandoffException e) {
      if (!machine.state().isTerminal()) {
        log.warn(
            "handoff (generation {}): lost the predecessor's drain on {}: {}",
            generation,
            channel.path(),
            e.getMessage());
      }
    } finally {
      channel.close();
      predecessorDone();
    }
  }

  /** The predecessor finished its drain or is gone: once, by whoever leaves a draining state. */
  private void predecessorDone() {
    predecessorDone(
        machine
            .leaveFor(IncomingState.PREDECESSOR_GONE)
            .map(IncomingState::predecessorDrains)
            .orElse(false));
  }

  private void predecessorDone(boolean wasDraining) {
    olderDraining.set(List.of());
    if (wasDraining) {
      events.predecessorsDraining(List.of());
    }
    ConnectionReceiver receiver = connReceiver;
    if (receiver != null) {
      receiver.predecessorGone();
    } else {
      closeConnServer();
    }
    predecessorGone.complete(null);
  }

  private void closeConnServer() {
    UnixServer server = connServer;
    if (server != null) {
      server.deleteFileIfStillOurs();
      server.close();
    }
  }

  /**
   * While held: gives the takeover up (e.g. on SIGTERM). The predecessor, told so, serves on;
   * {@link #ready} then throws {@link HandoffAbortedException}. Returns false when not held. Asked
   * again while the predecessor has not answered, it says so again.
   */
  public boolean giveUpHeld(String reason) {
    ControlChannel channel = reconfig;
    givenUpReason = reason; // before the move: ready() reads it once it sees GIVING_UP
    if (!machine.moveFrom(IncomingState.HELD, IncomingState.GIVING_UP)
        && machine.state() != IncomingState.GIVING_UP) {
      return false;
    }
    try {
      channel.send(
          ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason(reason)).build());
    } catch (OsException | ControlProtocolException e) {
      log.warn(
          "handoff: Abort not delivered on {}: {}; closing it instead",
          channel.path(),
          e.getMessage());
      channel.close();
    }
    return true;
  }

  /** Tells the predecessor we give up (it serves on), closes everything and removes listen.sock. */
  public void abort(String reason) {
    ControlChannel channel = reconfig;
    if (channel != null && !channel.isClosed()) {
      try {
        channel.send(
            ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason(reason)).build());
      } catch (OsException | ControlProtocolException e) {
        log.warn("handoff: Abort not delivered on {}: {}", channel.path(), e.getMessage());
      }
    }
    log.warn("handoff (generation {}): aborted: {}", generation, reason);
    closeQuietly();
  }

  /**
   * Whether this process's predecessor still drains (it said Ready and the predecessor has not
   * finished).
   */
  public boolean predecessorDraining() {
    return machine.state().predecessorDrains();
  }

  public List<PredecessorDrain> draining() {
    if (!predecessorDraining()) {
      return List.of();
    }
    DrainProgress own = predecessorProgress.get();
    List<PredecessorDrain> chain = new ArrayList<>();
    chain.add(
        new PredecessorDrain(
            generation - 1, predecessor.pid(), own == null ? new DrainProgress(0, 0) : own));
    chain.addAll(olderDraining.get());
    return List.copyOf(chain);
  }

  public boolean understandsHandedOn() {
    return predecessorRevision >= ProtocolVersion.HANDED_ON_REVISION;
  }

  /**
   * Tells the predecessor, once, that it will never be the active process again. Only while this
   * side follows its drain: before Draining it has not stopped accepting (a held predecessor
   * ignores HandedOn), and it rolls back if this process then exits, which is right.
   */
  public void handOn(HandedOn.Why why, long activeGeneration, String detail) {
    ControlChannel channel = reconfig;
    if (machine.state() != IncomingState.FOLLOWING || channel == null || channel.isClosed()) {
      return; // HANDED_ON: it already knows it will never be the active process again
    }
    if (!understandsHandedOn()) {
      // Never sent to a reader that would ignore it: the outgoing side refuses to hand over then.
      log.warn(
          "handoff (generation {}): predecessor {} speaks revision {} and cannot be told {}"
              + " (expected: >= {})",
          generation,
          predecessor,
          predecessorRevision,
          why,
          ProtocolVersion.HANDED_ON_REVISION);
      return;
    }
    if (!machine.moveFrom(IncomingState.FOLLOWING, IncomingState.HANDED_ON)) {
      return; // said by another thread a moment ago, or the predecessor is gone
    }
    try {
      channel.send(
          ProtocolVersion.envelope()
              .setHandedOn(
                  HandedOn.newBuilder()
                      .setWhy(why)
                      .setActiveGeneration(activeGeneration)
                      .setDetail(detail))
              .build());
      step(
          "handed_on",
          "told predecessor "
              + predecessor
              + " (generation "
              + (generation - 1)
              + ") "
              + why
              + ": it never accepts again and drains on");
    } catch (OsException | ControlProtocolException e) {
      // It is dying or gone: its EOF handling applies (a gone one needs no word).
      log.warn(
          "handoff (generation {}): HandedOn not delivered to predecessor {} on {}: {}",
          generation,
          predecessor,
          channel.path(),
          e.getMessage());
    }
  }

  public CompletableFuture<Boolean> gone() {
    if (!predecessorDraining()) {
      return CompletableFuture.completedFuture(true);
    }
    long deadline = predecessorDeadlineMillis;
    Duration wait =
        deadline == 0
            ? UNKNOWN_DEADLINE_WAIT
            : Duration.ofMillis(Math.max(0, deadline - System.currentTimeMillis()))
                .plus(settings.stepTimeout());
    return predecessorGone
        .thenApply(v -> true)
        .completeOnTimeout(false, wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static List<PredecessorDrain> fromWire(
      List<io.baton.proto.handoff.v1.PredecessorDrain> wire) {
    return wire.stream()
        .map(
            p ->
                new PredecessorDrain(
                    p.getGeneration(),
                    p.getPid(),
                    new DrainProgress(
                        p.getConnectionsActive(),
                        p.getRequestsActive(),
                        p.getConnectionsMigrated())))
        .toList();
  }

  public Optional<DrainProgress> predecessorProgress() {
    return predecessorDraining()
        ? Optional.ofNullable(predecessorProgress.get())
        : Optional.empty();
  }

  /** Completes when the predecessor finished draining or closed its connection. */
  public CompletableFuture<Void> predecessorGone() {
    return predecessorGone;
  }

  public long generation() {
    return generation;
  }

  private Envelope expect(
      ControlChannel channel, Duration timeout, Envelope.BodyCase expected, String name)
      throws HandoffException {
    ReceivedFrame frame;
    try {
      frame = channel.receive(timeout);
    } catch (OsException e) {
      if (e.isTimeout()) {
        throw new HandoffException(
            "handoff: no "
                + name
                + " from the active process on "
                + channel.path()
                + " within "
                + timeout,
            e);
      }
      throw e;
    } catch (PeerClosedException e) {
      throw new PeerClosedException(
          "handoff: the active process closed "
              + channel.path()
              + " while we waited for "
              + name
              + " (it exited or died)");
    }
    frame.closeFds();
    Envelope envelope = frame.envelope();
    if (envelope.getBodyCase() == Envelope.BodyCase.REFUSAL) {
      throw new HandoffRefusedException(
          envelope.getRefusal().getReason(), envelope.getRefusal().getDetail());
    }
    if (envelope.getBodyCase() == Envelope.BodyCase.ABORT && machine.state().isHeld()) {
      throw new HandoffAbortedException("by the predecessor: " + envelope.getAbort().getReason());
    }
    if (!ProtocolVersion.compatible(envelope.getProtocolVersion())) {
      throw new ControlProtocolException(
          RefusalReason.PROTOCOL_VERSION_MISMATCH,
          "handoff: protocol_version: "
              + envelope.getProtocolVersion()
              + " from "
              + channel.path()
              + " (expected: "
              + ProtocolVersion.CURRENT
              + ")");
    }
    if (envelope.getBodyCase() != expected) {
      throw new ControlProtocolException(
          RefusalReason.UNEXPECTED_MESSAGE,
          "handoff: message "
              + envelope.getBodyCase()
              + " on "
              + channel.path()
              + " (expected: "
              + expected
              + ")");
    }
    return envelope;
  }

  private void checkUid(PeerCredentials peer, ControlChannel channel) throws HandoffException {
    Optional<String> problem = peers.uidProblem("handoff: " + channel.path() + " peer", peer);
    if (problem.isPresent()) {
      throw new HandoffException(problem.get());
    }
  }

  private void step(String phase, String what) {
    long now = System.nanoTime();
    Duration took = Duration.ofNanos(now - stepStarted);
    stepStarted = now;
    log.info("handoff (generation {}): {} ({}) in {} ms", generation, phase, what, took.toMillis());
    events.phaseCompleted("incoming_" + phase, took);
  }

  private void closeListenServer() {
    UnixServer server = listenServer;
    if (server != null) {
      server.deleteFileIfStillOurs();
      server.close();
      listenServer = null;
    }
  }

  /**
   * Closes this side (whatever state it was in, once); returns the state it left, empty if it was
   * closed already.
   */
  private Optional<IncomingState> closeQuietly() {
    Optional<IncomingState> left = machine.leaveFor(IncomingState.CLOSED);
    if (reconfig != null) {
      reconfig.discardUnread(); // so that the predecessor reads a HandedOn just sent, then EOF
      reconfig.close();
    }
    closeListenServer(); // removes listen.sock if it is still the one we bound
    if (connReceiver == null) {
      closeConnServer();
    }
    return left;
  }

  @Override
  public void close() {
    predecessorDone(closeQuietly().map(IncomingState::predecessorDrains).orElse(false));
    if (connReceiver != null) {
      connReceiver.close();
    }
  }
}
