package io.baton.handoff.process;

import io.baton.handoff.Arrival;
import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.DrainOutcome;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.incoming.IncomingHandoff;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.outgoing.OutgoingHandoff;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.rundir.ArrivalLock;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.HandedOn;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The facade of one process's part in handoffs: incoming for generation N (it took over from its
 * predecessor), outgoing for N+1 (it serves {@code reconfig.sock} and hands over to its successor).
 *
 * <p>Use, in this order:
 *
 * <ol>
 *   <li>{@link #open} checks the run directory (creates it 0700; refuses one writable by group or
 *       others or owned by another uid).
 *   <li>{@link #arrive} connects to {@code reconfig.sock}: a {@link Arrival.ColdStart} when there
 *       is no active process (no socket, or a stale one, which is removed); else a full handoff up
 *       to the received listener fds ({@link Arrival.Takeover}). Nothing accepts on them yet.
 *   <li>The application builds everything it needs to serve, registers its channels (it accepts
 *       from now on) and calls {@link #serve}: on a takeover this says Ready, waits for the
 *       predecessor to stop accepting, and atomically renames this process's control socket over
 *       {@code reconfig.sock}; on a cold start it just publishes the socket. From then on it serves
 *       {@code reconfig.sock} on a daemon thread with {@code source}.
 *   <li>Or, if it cannot get ready, {@link #abort} tells the predecessor, which serves on.
 * </ol>
 *
 * <p>It owns both sides and is the only place that knows both: the incoming side ({@link
 * IncomingHandoff}) and the outgoing side ({@link OutgoingHandoff}) never see each other; the
 * outgoing side learns about the older generations that still drain through the {@link
 * io.baton.handoff.outgoing.PredecessorChain} this facade hands it.
 */
public final class Handoff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Handoff.class);

  private final HandoffSettings settings;
  private final HandoffEvents events;
  private final RunDirectory runDir;
  private final IncomingHandoff incoming;
  private final CompletableFuture<DrainOutcome> successorTookOver = new CompletableFuture<>();
  private Arrival arrival;

  /** Held from arrive() until a cold start has published reconfig.sock (or gave up). */
  private ArrivalLock coldStartTurn;

  private volatile OutgoingHandoff outgoing;

  private Handoff(
      HandoffSettings settings,
      HandoffEvents events,
      RunDirectory runDir,
      IncomingHandoff incoming) {
    this.settings = settings;
    this.events = events;
    this.runDir = runDir;
    this.incoming = incoming;
  }

  public static Handoff open(HandoffSettings settings, HandoffEvents events)
      throws HandoffException {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(events, "events");
    RunDirectory runDir = RunDirectory.open(settings.runDir(), ProcessIdentity.ofThisProcess());
    try {
      runDir.removeFilesOfEndedInstances();
      return new Handoff(settings, events, runDir, new IncomingHandoff(runDir, settings, events));
    } catch (HandoffException | RuntimeException e) {
      runDir.close();
      throw e;
    }
  }

  /**
   * This process's instance id: random, never reused, it tells generations apart in logs and names
   * where pids cannot (in a pod each may be pid 1).
   */
  public String instanceId() {
    return runDir.self().instanceId();
  }

  /**
   * This process's own path for a Unix socket it publishes under {@code sharedName} in the run
   * directory (bind it there, then link it over the shared name): unique to this process, and
   * removed by a later process once this one has ended if it could not remove it itself.
   */
  public Path ownSocketPath(String sharedName) {
    return runDir.ownSocket(sharedName);
  }

  /**
   * The handoff protocol's major version of this binary: two processes hand off only if theirs are
   * equal.
   */
  public static int protocolVersion() {
    return ProtocolVersion.CURRENT;
  }

  /** The handoff protocol revision of this binary: which additions within the version it speaks. */
  public static int protocolRevision() {
    return ProtocolVersion.REVISION;
  }

  /** What {@code baton version --protocol} prints: {@code VERSION.REVISION}, e.g. {@code 1.2}. */
  public static String printableProtocolVersion() {
    return ProtocolVersion.printable();
  }

  /**
   * This process's effective uid: the one the kernel reports to its peers, and the one (or root) a
   * peer of its control sockets must have. The application applies the same rule to its own sockets
   * (admin.sock).
   */
  public static long ownUid() throws HandoffException {
    return Fds.ownUid();
  }

  public synchronized Arrival arrive() throws HandoffException {
    if (arrival != null) {
      throw new IllegalStateException("arrive: already called (expected: once per process)");
    }
    ArrivalLock turn =
        runDir.awaitArrivalTurn(
            settings.readyTimeout(),
            () ->
                log.info(
                    "handoff: another process is starting in {}; waiting for it to serve (at most"
                        + " {})",
                    runDir,
                    settings.readyTimeout()));
    try {
      // A takeover gives the turn up once connected: the active process refuses a second successor
      // itself.
      arrival = incoming.arrive(turn::close);
    } catch (HandoffException | RuntimeException e) {
      turn.close();
      throw e;
    }
    if (arrival instanceof Arrival.ColdStart) {
      coldStartTurn =
          turn; // until reconfig.sock is ours: a process starting meanwhile must take over, not
      // cold-start
    }
    return arrival;
  }

  /**
   * @param adoptedListeners the names of the inherited listeners this process registered (the
   *     predecessor stops accepting on those); ignored on a cold start
   */
  public synchronized void serve(HandoffSource source, Set<String> adoptedListeners)
      throws HandoffException {
    serve(source, adoptedListeners, TAKES_NO_CONNECTION);
  }

  /** A process that takes no live connection closes each one a predecessor sends anyway. */
  private static final ConnectionArrivals TAKES_NO_CONNECTION =
      connection -> Fds.closeAllQuietly(connection.fds());

  /**
   * @param arrivals takes the live connections the predecessor sends during its drain (a takeover
   *     only)
   */
  public synchronized void serve(
      HandoffSource source, Set<String> adoptedListeners, ConnectionArrivals arrivals)
      throws HandoffException {
    Objects.requireNonNull(source, "source");
    if (arrival == null) {
      throw new IllegalStateException("serve: called before arrive (expected: arrive() first)");
    }
    if (outgoing != null) {
      throw new IllegalStateException("serve: already serving (expected: once per process)");
    }
    // Bound before Ready, so that publishing it after Draining is one rename.
    UnixServer control = UnixServer.bind(runDir.newTempControlSocket());
    try {
      if (arrival instanceof Arrival.Takeover) {
        incoming.ready(control, adoptedListeners, arrivals);
      } else {
        control.publishAs(runDir.reconfigSocket());
        endColdStartTurn();
      }
      OutgoingHandoff serving =
          new OutgoingHandoff(
              runDir,
              settings,
              events,
              source,
              new IncomingPredecessorChain(incoming),
              successorTookOver);
      serving.start(control);
      outgoing = serving;
    } catch (HandoffException | RuntimeException e) {
      control.deleteFileIfStillOurs();
      control.close();
      throw e;
    }
  }

  /**
   * This process, held after taking over, gives the takeover up (SIGTERM while held): the
   * predecessor serves on, and {@link #serve} throws {@link HandoffAbortedException}. Not
   * synchronized: {@link #serve} is blocked meanwhile. Returns false when not held.
   */
  public boolean giveUpHeldTakeover(String reason) {
    return incoming.giveUpHeld(reason);
  }

  /**
   * This process holds its successor: end the hold with a commit (this process drains). False if
   * none is held.
   */
  public boolean commitHeldSuccessor(String why) {
    OutgoingHandoff serving = outgoing;
    return serving != null && serving.commitHeld(why);
  }

  /**
   * This process holds its successor: end the hold with an abort (the successor drains and exits).
   * False if none is held.
   */
  public boolean abortHeldSuccessor(String why) {
    OutgoingHandoff serving = outgoing;
    return serving != null && serving.abortHeld(why);
  }

  public synchronized void abort(String reason) {
    incoming.abort(reason);
    endColdStartTurn();
  }

  private void endColdStartTurn() {
    if (coldStartTurn != null) {
      coldStartTurn.close();
      coldStartTurn = null;
    }
  }

  /**
   * Completes when a successor has taken over and this process's drain has finished (the
   * predecessor of that successor may now exit).
   */
  public CompletableFuture<DrainOutcome> successorTookOver() {
    return successorTookOver;
  }

  /** While this process's predecessor drains: its last reported progress. */
  public Optional<DrainProgress> predecessorProgress() {
    return incoming.predecessorProgress();
  }

  /**
   * Every older generation that still drains, newest first: this process's predecessor, then those
   * it relays (chained drains). Empty when none does.
   */
  public List<PredecessorDrain> drainingPredecessors() {
    return incoming.draining();
  }

  /**
   * Completes with true once this process's predecessor (and with it every older generation) has
   * finished its drain or exited, at once if none drains; with false if it outlives its own drain
   * deadline plus the step timeout. A process that stops without a successor waits for this before
   * it exits: a service manager that waits for its main process only (systemd in a cgroup v1
   * container) would otherwise kill the older generations' drains when this one exits.
   */
  public CompletableFuture<Boolean> predecessorsGone() {
    return incoming.gone();
  }

  /**
   * This process, active, drains for good without a successor (SIGTERM, {@code baton drain}): its
   * draining predecessor, if any, is told HandedOn(STOPPING) so that it does not roll back when
   * this process exits. A no-op when no predecessor drains.
   */
  public void stopping(String why) {
    incoming.handOn(HandedOn.Why.STOPPING, 0, why);
  }

  /**
   * Stops serving {@code reconfig.sock} (its file is removed only if it is still this process's
   * socket, never a successor's) and closes every control connection. Listener fds stay the
   * application's.
   */
  @Override
  public synchronized void close() {
    if (outgoing != null) {
      outgoing.close();
    }
    incoming.close();
    endColdStartTurn();
    runDir.close();
  }
}
