package io.baton.handoff.incoming;

import io.baton.handoff.Arrival;
import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.IncomingStep;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.state.StateMachine;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.proto.handoff.v1.Draining;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.HandedOn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

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
 * <p>This class coordinates; each role has a class of its own: {@link HelloExchange} (Hello,
 * Welcome, refusals), {@link ListenerReceipt} (listen.sock and the listener fds), {@link
 * ConnectionIntake} (conn.sock), {@link DrainingPredecessors} (the chain that still drains), {@link
 * DrainFollower} (the predecessor's reports after Draining), {@link HandedOnNotice}, and {@link
 * IncomingReport} (log lines and step durations).
 *
 * <p>Where it is in the protocol is one {@link IncomingState}, owned here and changed only through
 * its checked transition table: by the thread that arrives and says Ready, by the thread that
 * follows the predecessor's drain, by the one that gives a held takeover up or hands on, and by
 * {@link #close}. A move that races with {@link #close} loses quietly; any other move the table
 * does not list throws.
 */
public final class IncomingHandoff implements AutoCloseable {

  private final RunDirectory runDir;
  private final HandoffSettings settings;
  private final HandoffEvents events;
  private final PeerCheck peers;
  private final StateMachine<IncomingState> machine;
  private final IncomingReport report;
  private final ListenerReceipt listeners;
  private final ConnectionIntake connections;
  private final DrainingPredecessors predecessors;
  private final HandedOnNotice handedOn;
  private ControlChannel reconfig;
  private long generation;

  /** The predecessor's protocol revision, from Welcome: 3 or more, it wants ConnectionOwned. */
  private int predecessorRevision = 1;

  /** Who the predecessor said it is in Welcome. */
  private ProcessIdentity predecessor = new ProcessIdentity(0, 0, "");

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
    this.report = new IncomingReport(events);
    this.listeners = new ListenerReceipt(runDir, peers, settings.stepTimeout());
    this.connections = new ConnectionIntake(runDir);
    this.predecessors =
        new DrainingPredecessors(events, report, this::predecessorDraining, settings.stepTimeout());
    this.handedOn = new HandedOnNotice(report);
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
    report.startClock();
    UnixConnection connection;
    try {
      connection = UnixConnection.connect(reconfigPath, settings.stepTimeout());
    } catch (OsException e) {
      if (e.kind() == OsException.Kind.NOT_FOUND) {
        report.coldStart(reconfigPath);
        machine.moveTo(IncomingState.COLD_START);
        return new Arrival.ColdStart();
      }
      if (e.kind() == OsException.Kind.CONNECTION_REFUSED) {
        // A socket file nobody listens on: its owner was killed without cleaning up.
        report.staleSocket(reconfigPath);
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
    HelloExchange.Welcomed welcome = HelloExchange.exchange(reconfig, peers, settings);
    predecessor = welcome.predecessor();
    generation = welcome.generation() + 1;
    report.welcomedBy(predecessor, generation);
    predecessors.welcomedBy(predecessor, generation);
    handedOn.welcomedBy(welcome.revision());
    predecessorRevision = welcome.revision();
    report.step(
        "welcomed",
        "by "
            + predecessor
            + " build "
            + welcome.buildVersion()
            + " generation "
            + welcome.generation());
    settings.stepObserver().reached(IncomingStep.WELCOMED);

    Path listenPath = listeners.bind();
    Path connPath = connections.bind();
    reconfig.send(IncomingMessages.listenSocketReady(listenPath, connPath));
    PassedListeners passed = listeners.receiveFrom(predecessor);
    report.step("listeners_received", passed.listeners().size() + " listener(s)");
    settings.stepObserver().reached(IncomingStep.LISTENERS_RECEIVED);
    return new Arrival.Takeover(
        generation,
        predecessor.pid(),
        welcome.buildVersion(),
        passed.listeners(),
        passed.counters(),
        passed.carriedState());
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
    connections.startReceiving(
        peers,
        predecessor,
        predecessorRevision,
        generation,
        arrivals,
        events,
        settings.stepObserver());
    reconfig.send(IncomingMessages.ready(adoptedListeners));
    report.step("ready_sent", "accepting on every listener");
    settings.stepObserver().reached(IncomingStep.READY_SENT);
    Duration drainingWithin = settings.stepTimeout();
    if (settings.hold().requested()) {
      // The predecessor ends the hold itself.
      drainingWithin = settings.hold().timeout().plus(settings.stepTimeout());
      machine.leaveFor(IncomingState.HELD);
      report.step(
          "held",
          "both generations accept until the operator commits or aborts, at most "
              + settings.hold().timeout());
    } else {
      machine.leaveFor(IncomingState.AWAITING_DRAINING);
    }
    boolean following = awaitDraining(drainingWithin);
    control.publishAs(runDir.reconfigSocket());
    report.nowServing(runDir.reconfigSocket(), peers.self());
    if (following) {
      new DrainFollower(
              reconfig,
              predecessors,
              report,
              () -> machine.state().isTerminal(),
              this::predecessorDone)
          .start();
    } else {
      predecessorDone();
    }
  }

  /**
   * Waits for the commit; returns whether the predecessor's drain is to be followed. Only an abort
   * of a held takeover ends {@link #ready}: a predecessor that says nothing or dies is served past.
   */
  private boolean awaitDraining(Duration within) throws HandoffAbortedException {
    try {
      Draining draining = receiveDraining(within);
      // From GIVING_UP too: the predecessor's commit crossed our Abort; it stopped accepting, we
      // serve.
      machine.leaveFor(IncomingState.FOLLOWING);
      report.step("draining_acknowledged", "predecessor " + predecessor + " stopped accepting");
      predecessors.stoppedAccepting(draining);
      return true;
    } catch (HandoffAbortedException e) {
      // Never published, never followed: the caller drains what this process accepted and stops.
      machine.leaveFor(IncomingState.ABORTED);
      report.step("hold_aborted", e.getMessage());
      reconfig.close();
      throw e;
    } catch (PeerClosedException e) {
      report.predecessorDiedBeforeDraining(reconfig.path());
      return false;
    } catch (HandoffException e) {
      report.noDraining(e.getMessage());
      if (reconfig.isClosed()) {
        return false;
      }
      // It may drain all the same: its EOF or DrainFinished will say.
      machine.leaveFor(IncomingState.FOLLOWING);
      return true;
    }
  }

  private Draining receiveDraining(Duration within) throws HandoffException {
    try {
      return AwaitedAnswer.await(
              reconfig,
              within,
              Envelope.BodyCase.DRAINING,
              "Draining",
              () -> machine.state().isHeld())
          .getDraining();
    } catch (PeerClosedException e) {
      if (machine.state() == IncomingState.GIVING_UP) {
        throw new HandoffAbortedException(givenUpReason);
      }
      throw e;
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
    predecessors.forget(wasDraining);
    connections.predecessorGone();
    predecessors.markGone();
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
      channel.send(IncomingMessages.abort(reason));
    } catch (OsException | ControlProtocolException e) {
      report.abortNotDeliveredClosing(channel.path(), e.getMessage());
      channel.close();
    }
    return true;
  }

  /** Tells the predecessor we give up (it serves on), closes everything and removes listen.sock. */
  public void abort(String reason) {
    ControlChannel channel = reconfig;
    if (channel != null && !channel.isClosed()) {
      try {
        channel.send(IncomingMessages.abort(reason));
      } catch (OsException | ControlProtocolException e) {
        report.abortNotDelivered(channel.path(), e.getMessage());
      }
    }
    report.aborted(reason);
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
    return predecessors.chain();
  }

  public boolean understandsHandedOn() {
    return handedOn.understood();
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
    if (!handedOn.canTell(why)) {
      return;
    }
    if (!machine.moveFrom(IncomingState.FOLLOWING, IncomingState.HANDED_ON)) {
      return; // said by another thread a moment ago, or the predecessor is gone
    }
    handedOn.tell(channel, why, activeGeneration, detail);
  }

  public CompletableFuture<Boolean> gone() {
    return predecessors.gone();
  }

  public Optional<DrainProgress> predecessorProgress() {
    return predecessors.progress();
  }

  /** Completes when the predecessor finished draining or closed its connection. */
  public CompletableFuture<Void> predecessorGone() {
    return predecessors.goneFuture();
  }

  public long generation() {
    return generation;
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
    listeners.close(); // removes listen.sock if it is still the one we bound
    connections.closeUnlessReceiving();
    return left;
  }

  @Override
  public void close() {
    predecessorDone(closeQuietly().map(IncomingState::predecessorDrains).orElse(false));
    connections.close();
  }
}
