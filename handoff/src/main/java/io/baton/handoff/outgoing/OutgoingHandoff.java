package io.baton.handoff.outgoing;

import io.baton.handoff.Drain;
import io.baton.handoff.DrainOutcome;
import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffResult;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.PassableListener;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.migration.ConnectionSender;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.CounterValues;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Abort;
import io.baton.proto.handoff.v1.Draining;
import io.baton.proto.handoff.v1.DrainFinished;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.HandedOn;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.ListenerDescriptor;
import io.baton.proto.handoff.v1.Listeners;
import io.baton.proto.handoff.v1.Refusal;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.proto.handoff.v1.Welcome;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outgoing side: serves {@code reconfig.sock} and hands this process's listeners to a
 * successor. One accept thread; one thread per connection ({@link Session}), so that a second
 * peer is refused while a first one is being served.
 *
 * <p>Until Ready this process changes nothing: every failure leaves it serving as before. After
 * Ready it drains, and the connection to the successor is held open: EOF on it before the drain
 * finished means the successor died, and this process rolls back — unless the successor said
 * HandedOn first (it handed over in turn, or stops for good): then this process only drains on.
 *
 * <p>Chained drains: this process may hand over while its own predecessors still drain (fewer than
 * {@link HandoffSettings#maxDraining()}, each able to be told HandedOn). It then tells its
 * predecessor HandedOn, relays the chain's progress to its successor, and sends DrainFinished only
 * once its predecessor is gone too, so that the predecessor's final counters, added to this
 * process's, travel on in it.
 */
public final class OutgoingHandoff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutgoingHandoff.class);

  /** How often the drain progress is streamed to the successor. */
  static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

  /**
   * After Ready the successor sends nothing: reads only wait for EOF. They still wake up this often
   * (and go back to waiting while the drain runs) so that no read is unbounded; the thread ends when
   * the socket closes.
   */
  static final Duration POST_READY_WAKEUP = Duration.ofMinutes(1);
  /**
   * How often a held session looks whether the operator decided: a receive cannot be woken
   * otherwise. A frame arrives whole (one sendmsg of a few bytes), so a timeout does not split one.
   */
  private static final Duration HOLD_POLL = Duration.ofMillis(100);

  private final RunDirectory runDir;
  private final HandoffSettings settings;
  private final HandoffEvents events;
  private final HandoffSource source;
  private final PredecessorChain predecessors;
  private final CompletableFuture<DrainOutcome> successorTookOver;
  private final PeerCheck peers;
  private final AtomicReference<Session> active = new AtomicReference<>();
  private final AtomicLong sessionIds = new AtomicLong();
  private final ScheduledExecutorService ticker;
  private final Object serverLock = new Object();
  private UnixServer server;
  private volatile boolean closed;

  public OutgoingHandoff(
      RunDirectory runDir,
      HandoffSettings settings,
      HandoffEvents events,
      HandoffSource source,
      PredecessorChain predecessors,
      CompletableFuture<DrainOutcome> successorTookOver)
      throws OsException {
    this.runDir = runDir;
    this.settings = settings;
    this.events = events;
    this.source = source;
    this.predecessors = predecessors;
    this.successorTookOver = successorTookOver;
    this.peers = new PeerCheck(Fds.ownUid(), runDir.self());
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "baton-handoff-drain-progress");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts serving on {@code published}, already reachable at {@code reconfig.sock}. */
  public void start(UnixServer published) {
    synchronized (serverLock) {
      server = published;
    }
    HandoffThreads.start("accept", () -> acceptLoop(published));
  }

  /**
   * Binds a fresh socket at a temporary path and renames it over {@code reconfig.sock}: one atomic
   * step, so a client connecting meanwhile reaches either the old socket or the new one.
   */
  public static UnixServer publish(RunDirectory runDir) throws OsException {
    UnixServer fresh = UnixServer.bind(runDir.newTempControlSocket());
    try {
      fresh.publishAs(runDir.reconfigSocket());
      return fresh;
    } catch (OsException e) {
      fresh.deleteFileIfStillOurs();
      fresh.close();
      throw e;
    }
  }

  /** The server currently published, or null once a successor took over. */
  public UnixServer server() {
    synchronized (serverLock) {
      return server;
    }
  }

  /** The session now holding the baton, if any. */
  public SessionState activeSessionState() {
    Session session = active.get();
    return session == null ? null : session.state();
  }

  private void acceptLoop(UnixServer listening) {
    while (!closed) {
      UnixConnection connection;
      try {
        connection = listening.accept();
      } catch (OsException e) {
        if (listening.isClosed() || closed) {
          return; // replaced (rollback re-published) or this process is done: not an error
        }
        log.warn("handoff: accept on {} failed, still serving: {}", listening.path(), e.getMessage());
        continue;
      }
      Session session = new Session(sessionIds.incrementAndGet(), new ControlChannel(connection));
      HandoffThreads.start("session-" + session.id, session::run);
    }
  }

  /**
   * After a rollback: serves reconfig.sock again, unless this side was closed meanwhile (then a
   * new socket file would outlive the process). Under the server lock, so that {@link #close}
   * either comes first and nothing is published, or comes after and removes what was.
   */
  private UnixServer republishUnlessClosed() throws OsException {
    UnixServer previous;
    UnixServer fresh;
    synchronized (serverLock) {
      if (closed) {
        log.info("handoff: rolled back while closing; not serving {} again", runDir.reconfigSocket());
        return null;
      }
      fresh = publish(runDir);
      previous = server;
      server = fresh;
    }
    if (previous != null) {
      previous.close();
    }
    return fresh;
  }

  @Override
  public void close() {
    closed = true;
    ticker.shutdownNow();
    Session session = active.get();
    if (session != null) {
      session.channel.close();
    }
    UnixServer current = detachServer();
    if (current != null) {
      current.deleteFileIfStillOurs();
      current.close();
    }
  }

  /** Stops serving: takes the control socket away from the accept loop's view. */
  private UnixServer detachServer() {
    synchronized (serverLock) {
      UnixServer current = server;
      server = null;
      return current;
    }
  }

  /** How a hold ends, when this side ends it. */
  private record HoldDecision(boolean commit, String reason) {
    static HoldDecision abort(String reason) {
      return new HoldDecision(false, reason);
    }
  }

  /**
   * Ends the hold of the successor being held, if any, with a commit: this process stops
   * accepting and drains. Returns false when no handoff is held.
   */
  public boolean commitHeld(String why) {
    Session session = active.get();
    return session != null && session.state() == SessionState.HELD && session.holdDecision.complete(new HoldDecision(true, why));
  }

  /**
   * Ends the hold of the successor being held, if any, with an abort: the successor drains what it
   * accepted and exits; this process serves on. Returns false when no handoff is held.
   */
  public boolean abortHeld(String why) {
    Session session = active.get();
    return session != null && session.state() == SessionState.HELD && session.holdDecision.complete(HoldDecision.abort(why));
  }

  /** One connection to reconfig.sock, from Hello to its terminal {@link SessionState}. */
  final class Session {
    private final long id;
    private final ControlChannel channel;
    private SessionState state = SessionState.AWAITING_HELLO;
    private PeerCredentials peer;
    private long successorGeneration;
    private long stepStarted = System.nanoTime();
    private Drain drain;
    private ScheduledFuture<?> progressTask;
    /** Who the successor said it is in Hello. */
    private ProcessIdentity successor;
    /** The successor's conn.sock, or null if it takes no live connections. */
    private java.nio.file.Path successorConnPath;
    private ConnectionSender connections;
    /** Completed once, by whoever ends a hold first: the operator, the timeout. */
    private final CompletableFuture<HoldDecision> holdDecision = new CompletableFuture<>();

    Session(long id, ControlChannel channel) {
      this.id = id;
      this.channel = channel;
    }

    synchronized SessionState state() {
      return state;
    }

    private synchronized boolean transition(SessionState from, SessionState to) {
      if (state != from) {
        return false;
      }
      log.debug("handoff session {} on {}: {} -> {}", id, channel.path(), from, to);
      state = to;
      return true;
    }

    private synchronized void moveTo(SessionState to) {
      log.debug("handoff session {} on {}: {} -> {}", id, channel.path(), state, to);
      state = to;
    }

    void run() {
      try {
        peer = channel.peer();
        Hello hello = awaitHello();
        if (hello == null) {
          return; // refused or failed: already reported
        }
        try {
          handOver(hello);
        } finally {
          if (state().isTerminal() && state() != SessionState.SUCCEEDED) {
            active.compareAndSet(this, null);
          }
        }
      } catch (OsException e) {
        fail("cannot read the peer's credentials: " + e.getMessage());
      } catch (RuntimeException e) {
        log.error("handoff session {} on {}: unexpected error in {}", id, channel.path(), state(), e);
        fail("internal error: " + e);
        active.compareAndSet(this, null);
      }
    }

    /** AWAITING_HELLO: the checks of step 3 of the protocol. Returns null if the peer was turned away. */
    private Hello awaitHello() {
      ReceivedFrame frame;
      try {
        frame = channel.receive(settings.stepTimeout());
      } catch (ControlProtocolException e) {
        refuse(e.reason(), e.getMessage());
        return null;
      } catch (PeerClosedException e) {
        fail("peer closed before Hello");
        return null;
      } catch (OsException e) {
        fail(e.isTimeout() ? "no Hello within " + settings.stepTimeout() : e.getMessage());
        return null;
      }
      frame.closeFds(); // Hello carries none; a peer that sends some does not get to keep them open here
      Envelope envelope = frame.envelope();
      if (!ProtocolVersion.compatible(envelope.getProtocolVersion())) {
        refuse(
            RefusalReason.PROTOCOL_VERSION_MISMATCH,
            "protocol_version: " + envelope.getProtocolVersion() + " (expected: " + ProtocolVersion.CURRENT + ")");
        return null;
      }
      if (envelope.getBodyCase() != Envelope.BodyCase.HELLO) {
        refuse(RefusalReason.UNEXPECTED_MESSAGE, "message: " + envelope.getBodyCase() + " (expected: HELLO)");
        return null;
      }
      Hello hello = envelope.getHello();
      Optional<String> uidProblem = peers.uidProblem("peer", peer);
      if (uidProblem.isPresent()) {
        refuse(RefusalReason.PEER_UID_MISMATCH, uidProblem.get());
        return null;
      }
      ProcessIdentity claimed = new ProcessIdentity(hello.getPid(), hello.getPidNamespace(), hello.getInstanceId());
      Optional<String> pidProblem = peers.pidProblem("the connecting process (Hello.pid " + hello.getPid() + ")", peer, claimed);
      if (pidProblem.isPresent()) {
        refuse(RefusalReason.PEER_PID_MISMATCH, pidProblem.get());
        return null;
      }
      String chainProblem = chainProblem();
      if (chainProblem != null) {
        refuse(RefusalReason.PREDECESSOR_DRAINING, chainProblem);
        return null;
      }
      if (!claimActive()) {
        Session other = active.get();
        refuse(
            RefusalReason.HANDOFF_IN_PROGRESS,
            "another handoff is under way (peer " + (other == null ? "?" : other.peer) + ", " + (other == null ? "?" : other.state()) + ")");
        return null;
      }
      return hello;
    }

    /**
     * Makes this the session under way, unless another one is. A session that ended without
     * handing over counts as gone: it reports its end before its thread lets go of the slot, and
     * a successor that retries on that report must not be refused HANDOFF_IN_PROGRESS.
     */
    private boolean claimActive() {
      while (true) {
        Session other = active.get();
        if (other == null) {
          if (active.compareAndSet(null, this)) {
            return true;
          }
        } else if (other.state().isTerminal() && other.state() != SessionState.SUCCEEDED) {
          if (active.compareAndSet(other, this)) {
            return true;
          }
        } else {
          return false;
        }
      }
    }

    /** Null if the older generations still draining allow one more; else why not. */
    private String chainProblem() {
      List<PredecessorDrain> draining = predecessors.draining();
      if (draining.isEmpty()) {
        return null;
      }
      List<Long> generations = draining.stream().map(PredecessorDrain::generation).toList();
      if (!predecessors.understandsHandedOn()) {
        return "this process (generation " + source.generation() + ") waits for its predecessor (generation "
            + generations.get(0) + ") to drain: it speaks handoff protocol revision 1 and could not be told HandedOn "
            + "(expected: >= " + ProtocolVersion.HANDED_ON_REVISION + "); retry once it has drained";
      }
      if (draining.size() >= settings.maxDraining()) {
        return "generations " + generations + " still drain behind this process (generation " + source.generation()
            + "): handing over would make " + (draining.size() + 1) + " draining (expected: at most handoff.maxDraining "
            + settings.maxDraining() + "); retry once one has drained";
      }
      return null;
    }

    private void handOver(Hello hello) {
      long generation = source.generation();
      successorGeneration = generation + 1;
      successor = new ProcessIdentity(hello.getPid(), hello.getPidNamespace(), hello.getInstanceId());
      try {
        send(
            ProtocolVersion.envelope()
                .setWelcome(
                    Welcome.newBuilder()
                        .setPid((int) peers.self().pid())
                        .setPidNamespace(peers.self().pidNamespace())
                        .setInstanceId(peers.self().instanceId())
                        .setBuildVersion(settings.buildVersion())
                        .setGeneration(generation)
                        .setProtocolRevision(ProtocolVersion.REVISION))
                .build());
        step("welcome", "welcomed " + successor + " (kernel: " + peer + ") build " + hello.getBuildVersion());
        moveTo(SessionState.AWAITING_LISTEN_SOCKET);

        ReceivedFrame frame = receiveBeforeReady(settings.stepTimeout(), Envelope.BodyCase.LISTEN_SOCKET_READY);
        if (frame == null) {
          return;
        }
        String announced = frame.envelope().getListenSocketReady().getPath();
        if (!announced.isEmpty() && !announced.equals(runDir.listenSocket().toString())) {
          refuseAfterWelcome(
              RefusalReason.MALFORMED_MESSAGE,
              "ListenSocketReady.path: " + announced + " (expected: " + runDir.listenSocket() + ")");
          return;
        }
        String connPath = frame.envelope().getListenSocketReady().getConnPath();
        if (!connPath.isEmpty() && !connPath.equals(runDir.connSocket().toString())) {
          refuseAfterWelcome(
              RefusalReason.MALFORMED_MESSAGE,
              "ListenSocketReady.conn_path: " + connPath + " (expected: empty or " + runDir.connSocket() + ")");
          return;
        }
        successorConnPath = connPath.isEmpty() ? null : runDir.connSocket();
        moveTo(SessionState.SENDING_LISTENERS);
        if (!sendListeners(hello)) {
          return;
        }
        step("listeners_sent", "listeners passed");
        moveTo(SessionState.AWAITING_READY);

        frame = receiveBeforeReady(settings.readyTimeout(), Envelope.BodyCase.READY);
        if (frame == null) {
          return;
        }
        step("ready_received", "successor accepts on every listener");
        java.util.Set<String> adopted = java.util.Set.copyOf(frame.envelope().getReady().getAdoptedListenersList());
        if (hello.getHold()) {
          hold(adopted);
        } else {
          drain(adopted);
        }
      } catch (OsException | ControlProtocolException e) {
        failAndClean(e.getMessage());
      }
    }

    /**
     * Receives the one message expected now. Returns null after reporting a failure (Abort, EOF,
     * timeout, garbage or another message).
     */
    private ReceivedFrame receiveBeforeReady(Duration timeout, Envelope.BodyCase expected) {
      ReceivedFrame frame;
      try {
        frame = channel.receive(timeout);
      } catch (ControlProtocolException e) {
        refuseAfterWelcome(e.reason(), e.getMessage());
        return null;
      } catch (PeerClosedException e) {
        failAndClean("successor closed the connection in " + state() + " (it exited or died)");
        return null;
      } catch (OsException e) {
        failAndClean(e.isTimeout() ? "no " + expected + " within " + timeout + " in " + state() : e.getMessage());
        return null;
      }
      frame.closeFds();
      Envelope envelope = frame.envelope();
      if (envelope.getBodyCase() == Envelope.BodyCase.ABORT) {
        failAndClean("successor aborted in " + state() + ": " + envelope.getAbort().getReason());
        return null;
      }
      if (!ProtocolVersion.compatible(envelope.getProtocolVersion())) {
        refuseAfterWelcome(
            RefusalReason.PROTOCOL_VERSION_MISMATCH,
            "protocol_version: " + envelope.getProtocolVersion() + " (expected: " + ProtocolVersion.CURRENT + ")");
        return null;
      }
      if (envelope.getBodyCase() != expected) {
        refuseAfterWelcome(RefusalReason.UNEXPECTED_MESSAGE, "message: " + envelope.getBodyCase() + " (expected: " + expected + ")");
        return null;
      }
      return frame;
    }

    /** SENDING_LISTENERS: step 4 of the protocol, on listen.sock. */
    private boolean sendListeners(Hello hello) throws OsException, ControlProtocolException {
      try (ControlChannel listen = new ControlChannel(UnixConnection.connect(runDir.listenSocket(), settings.stepTimeout()))) {
        PeerCredentials listenPeer = listen.peer();
        Optional<String> problem = peers.problem("listen.sock is served by a process with", listenPeer, successor);
        if (problem.isPresent()) {
          failAndClean(problem.get() + "; not sending listeners");
          return false;
        }
        List<PassableListener> listeners = source.listeners();
        Listeners.Builder message =
            Listeners.newBuilder()
                .setGeneration(source.generation())
                .addAllCounters(CounterValues.toWire(source.counters()))
                .addAllCarriedState(source.carriedState());
        int[] fds = new int[listeners.size()];
        for (int i = 0; i < listeners.size(); i++) {
          PassableListener l = listeners.get(i);
          message.addListeners(ListenerDescriptor.newBuilder().setName(l.name()).setAddress(l.address()).setProtocol(l.protocol()));
          fds[i] = l.fd();
        }
        listen.send(ProtocolVersion.envelope().setListeners(message).build(), fds);
        ReceivedFrame reply;
        try {
          reply = listen.receive(settings.stepTimeout());
        } catch (PeerClosedException e) {
          failAndClean("successor closed listen.sock before ListenersReceived (it exited or died)");
          return false;
        } catch (OsException e) {
          failAndClean(e.isTimeout() ? "no ListenersReceived within " + settings.stepTimeout() : e.getMessage());
          return false;
        }
        reply.closeFds();
        if (reply.bodyCase() != Envelope.BodyCase.LISTENERS_RECEIVED) {
          failAndClean("on listen.sock: message " + reply.bodyCase() + " (expected: LISTENERS_RECEIVED)");
          return false;
        }
        int count = reply.envelope().getListenersReceived().getCount();
        if (count != fds.length) {
          failAndClean("ListenersReceived.count: " + count + " (expected: " + fds.length + ")");
          return false;
        }
        return true;
      }
    }

    /**
     * HELD: both processes accept until a commit ({@link #commitHeld}), an abort ({@link
     * #abortHeld}, the successor's Abort or EOF) or the hold timeout. This thread reads
     * reconfig.sock meanwhile, so that the successor's end is seen at once.
     */
    private void hold(java.util.Set<String> adoptedListeners) {
      if (!transition(SessionState.AWAITING_READY, SessionState.HELD)) {
        return;
      }
      Duration limit = settings.hold().timeout();
      step("held", "both generations accept until a commit (baton commit, SIGWINCH) or an abort (baton abort), at most " + limit);
      long deadline = System.nanoTime() + limit.toNanos();
      while (!holdDecision.isDone()) {
        if (System.nanoTime() - deadline > 0) {
          holdDecision.complete(HoldDecision.abort("no commit within the hold timeout, " + limit));
          break;
        }
        try {
          ReceivedFrame frame = channel.receive(HOLD_POLL);
          frame.closeFds();
          if (frame.bodyCase() == Envelope.BodyCase.ABORT) {
            endHold("the successor gave up: " + frame.envelope().getAbort().getReason(), false);
            return;
          }
          log.warn("handoff to generation {}: ignoring {} from peer {} on {} while held (expected: nothing, or Abort)",
              successorGeneration, frame.bodyCase(), peer, channel.path());
        } catch (PeerClosedException e) {
          endHold("the successor closed reconfig.sock while held (it stopped or died)", false);
          return;
        } catch (OsException e) {
          if (!e.isTimeout()) {
            endHold("reconfig.sock connection to the successor failed while held: " + e.getMessage(), false);
            return;
          }
        } catch (ControlProtocolException e) {
          endHold("garbage from the successor while held: " + e.getMessage(), true);
          return;
        }
      }
      HoldDecision decision = holdDecision.join();
      if (decision.commit()) {
        step("committed", decision.reason());
        drain(adoptedListeners);
      } else {
        endHold(decision.reason(), true);
      }
    }

    /** HELD to ABORTED: this process never stopped accepting, so nothing changes here. */
    private void endHold(String reason, boolean tellSuccessor) {
      if (!transition(SessionState.HELD, SessionState.ABORTED)) {
        return;
      }
      if (tellSuccessor) {
        try {
          send(ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason(reason)).build());
        } catch (OsException | ControlProtocolException e) {
          log.debug("handoff: Abort not delivered on {}: {}", channel.path(), e.getMessage());
        }
      }
      channel.close();
      runDir.removeQuietly(runDir.listenSocket());
      runDir.removeQuietly(runDir.connSocket());
      log.warn("handoff to generation {}: aborted while held: {}; the successor drains what it accepted; still serving as "
          + "generation {}", successorGeneration, reason, source.generation());
      events.handoffEnded(HandoffResult.ABORTED, reason);
      active.compareAndSet(this, null);
    }

    /** DRAINING: step 6. This thread then waits for EOF, which means the successor died. */
    private void drain(java.util.Set<String> adoptedListeners) {
      if (!transition(SessionState.AWAITING_READY, SessionState.DRAINING)
          && !transition(SessionState.HELD, SessionState.DRAINING)) {
        return;
      }
      // Before this process stops accepting: the predecessor stops sending live connections here
      // (this process would only pass them on) and never rolls back, whatever happens to us now.
      predecessors.handOn(HandedOn.Why.SUCCESSOR_TOOK_OVER, successorGeneration,
          "generation " + source.generation() + " handed over to generation " + successorGeneration);
      drain = source.beginDrain(adoptedListeners, connectToSuccessor());
      try {
        // Counted after accepting stopped: what the successor adds before its admin listener opens.
        send(ProtocolVersion.envelope()
            .setDraining(Draining.newBuilder()
                .addAllCounters(CounterValues.toWire(source.counters()))
                .setDeadlineUnixMillis(drain.deadlineUnixMillis())
                .addAllPredecessors(toWire(predecessors.draining())))
            .build());
      } catch (OsException | ControlProtocolException e) {
        // The reads below see the EOF and roll back.
        log.warn("handoff to generation {}: cannot send Draining on {}: {}", successorGeneration, channel.path(), e.getMessage());
      }
      step("draining", "stopped accepting, draining");
      progressTask =
          ticker.scheduleAtFixedRate(this::sendProgress, 0, PROGRESS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      drain.completion().whenComplete((outcome, error) -> ownDrainEnded(outcome, error));
      watchForSuccessorDeath();
    }

    /**
     * This process's own connections are done. DrainFinished waits for the predecessor (if it still
     * drains) so that its final counters, reported here and added to ours, travel on in ours.
     */
    private void ownDrainEnded(DrainOutcome outcome, Throwable error) {
      CompletableFuture<Boolean> gone = predecessors.gone();
      if (!gone.isDone()) {
        log.info("handoff to generation {}: own drain finished; waiting for the older generations {} to finish theirs "
                + "before DrainFinished (their final counters travel on in ours)",
            successorGeneration, predecessors.draining().stream().map(PredecessorDrain::generation).toList());
      }
      gone.whenComplete((finished, ignored) -> {
        if (Boolean.FALSE.equals(finished)) {
          log.warn("handoff to generation {}: the predecessor outlived its drain deadline; saying DrainFinished without "
              + "its final counters", successorGeneration);
        }
        finishDrain(outcome, error);
      });
    }

    /**
     * Connects to the successor's conn.sock. A successor that offers none, or one that cannot be
     * reached, gets no live connections: this process drains them all.
     */
    private ConnectionSink connectToSuccessor() {
      if (successorConnPath == null) {
        log.info("handoff to generation {}: the successor takes no live connections; draining them all here", successorGeneration);
        return ConnectionSink.NONE;
      }
      try {
        connections = ConnectionSender.connect(successorConnPath, peers, successor, settings.stepTimeout());
        return connections;
      } catch (OsException | ControlProtocolException e) {
        log.warn("handoff to generation {}: cannot send live connections to {}: {}; draining them all here",
            successorGeneration, successorConnPath, e.getMessage());
        return ConnectionSink.NONE;
      }
    }

    private long connectionsSent() {
      ConnectionSender sender = connections;
      return sender == null ? 0 : sender.sent();
    }

    private void sendProgress() {
      SessionState now = state();
      if (now != SessionState.DRAINING && now != SessionState.HANDED_ON) {
        return;
      }
      ConnectionSender sender = connections;
      if (sender != null) {
        sender.checkNotStuck();
      }
      try {
        DrainProgress progress = drain.progress();
        send(
            ProtocolVersion.envelope()
                .setDrainProgress(
                    io.baton.proto.handoff.v1.DrainProgress.newBuilder()
                        .setConnectionsActive(progress.connectionsActive())
                        .setRequestsActive(progress.requestsActive())
                        .setConnectionsMigrated(connectionsSent())
                        .addAllPredecessors(toWire(predecessors.draining())))
                .build());
      } catch (OsException | ControlProtocolException | RuntimeException e) {
        log.debug("handoff: drain progress not sent on {}: {}", channel.path(), e.getMessage());
      }
    }

    /**
     * DRAINING / HANDED_ON: the successor sends at most one HandedOn; otherwise this thread waits
     * for EOF, which before HandedOn means the successor died (roll back) and after it means only
     * that it is gone (drain on).
     */
    private void watchForSuccessorDeath() {
      while (true) {
        try {
          ReceivedFrame frame = channel.receive(POST_READY_WAKEUP);
          frame.closeFds();
          if (frame.bodyCase() == Envelope.BodyCase.HANDED_ON) {
            handedOn(frame.envelope().getHandedOn());
            continue;
          }
          log.warn(
              "handoff to generation {}: ignoring {} from peer {} on {} in {} (expected: nothing, or HANDED_ON)",
              successorGeneration, frame.bodyCase(), peer, channel.path(), state());
        } catch (PeerClosedException e) {
          if (state() == SessionState.HANDED_ON) {
            successorGoneAfterHandedOn("");
            return;
          }
          rollBack("successor (peer " + peer + ") closed reconfig.sock while this process drained: it exited or died");
          return;
        } catch (OsException e) {
          if (e.isTimeout() && isDraining(state())) {
            continue;
          }
          // A successor that closes with our drain progress still unread in its socket makes this
          // read fail with ECONNRESET instead of EOF: the same end, said differently.
          if (!e.isTimeout() && state() == SessionState.DRAINING) {
            rollBack("reconfig.sock connection to the successor failed while draining: " + e.getMessage());
          } else if (!e.isTimeout() && state() == SessionState.HANDED_ON) {
            successorGoneAfterHandedOn(" (" + e.getMessage() + ")");
          }
          return;
        } catch (ControlProtocolException e) {
          // The stream is out of step; the handoff is committed, so only EOF can still matter.
          log.warn("handoff to generation {}: garbage from peer {} on {} in {}: {}", successorGeneration, peer, channel.path(), state(), e.getMessage());
          if (!isDraining(state())) {
            return;
          }
        }
      }
    }

    private void successorGoneAfterHandedOn(String how) {
      log.info("handoff to generation {}: the successor (peer {}) closed reconfig.sock after HandedOn; no rollback, "
          + "draining on to this process's own deadline{}", successorGeneration, peer, how);
    }

    private boolean isDraining(SessionState s) {
      return s == SessionState.DRAINING || s == SessionState.HANDED_ON;
    }

    /** DRAINING to HANDED_ON: never roll back from now on, and send no more live connections. */
    private void handedOn(HandedOn handedOn) {
      String detail = handedOn.getWhy() + " (" + handedOn.getDetail() + ")";
      if (!transition(SessionState.DRAINING, SessionState.HANDED_ON)) {
        log.warn("handoff to generation {}: ignoring HandedOn {} from peer {} on {} in {} (expected: DRAINING, once)",
            successorGeneration, detail, peer, channel.path(), state());
        return;
      }
      step("handed_on", "the successor said " + detail + ": this process never accepts again; no rollback");
      events.handedOn(detail);
      ConnectionSender sender = connections;
      if (sender != null) {
        // The rest drains here: the successor would only have to pass them on, or it is stopping.
        sender.finish();
      }
    }

    private void rollBack(String reason) {
      if (!transition(SessionState.DRAINING, SessionState.ROLLED_BACK)) {
        return;
      }
      cancelProgress();
      channel.close();
      log.warn("handoff to generation {}: rolling back: {}", successorGeneration, reason);
      if (connections != null) {
        connections.abandon("the handoff rolled back");
      }
      source.rollBack(reason);
      try {
        UnixServer republished = republishUnlessClosed();
        if (republished != null) {
          HandoffThreads.start("accept", () -> acceptLoop(republished));
          log.info("handoff: rolled back; serving {} again (generation {})", runDir.reconfigSocket(), source.generation());
        }
      } catch (OsException e) {
        log.error("handoff: rolled back but cannot re-publish {}: {}", runDir.reconfigSocket(), e.getMessage());
      }
      events.handoffEnded(HandoffResult.ROLLED_BACK, reason);
      active.compareAndSet(this, null);
    }

    private void finishDrain(DrainOutcome outcome, Throwable error) {
      if (!transition(SessionState.DRAINING, SessionState.SUCCEEDED)
          && !transition(SessionState.HANDED_ON, SessionState.SUCCEEDED)) {
        return; // rolled back meanwhile
      }
      cancelProgress();
      if (connections != null) {
        connections.finish();
      }
      DrainOutcome result = outcome != null ? outcome : new DrainOutcome(0, Duration.ZERO);
      // Counted before the final counters are taken, so that the successor's count includes it.
      events.handoffEnded(HandoffResult.SUCCESS, "generation " + successorGeneration + " took over");
      try {
        send(
            ProtocolVersion.envelope()
                .setDrainFinished(
                    DrainFinished.newBuilder()
                        .setConnectionsClosedAtDeadline(result.closedAtDeadline())
                        .setDrainSeconds(result.took().toNanos() / 1e9)
                        .addAllFinalCounters(CounterValues.toWire(source.counters()))
                        .setConnectionsMigrated(connectionsSent()))
                .build());
      } catch (OsException | ControlProtocolException e) {
        log.warn("handoff to generation {}: DrainFinished not sent on {}: {}", successorGeneration, channel.path(), e.getMessage());
      }
      channel.close();
      step("drain", "drain finished, " + result.closedAtDeadline() + " connection(s) closed at the deadline");
      // reconfig.sock belongs to the successor now (it may be renaming its socket over the name
      // at this very moment): remove only our own bound file, never the published name.
      UnixServer current = detachServer();
      if (current != null) {
        current.deleteBoundFileOnly();
        current.close();
      }
      if (error != null) {
        successorTookOver.completeExceptionally(error);
      } else {
        successorTookOver.complete(result);
      }
    }

    private void cancelProgress() {
      ScheduledFuture<?> task = progressTask;
      if (task != null) {
        task.cancel(false);
      }
    }

    private void send(Envelope envelope) throws OsException, ControlProtocolException {
      channel.send(envelope);
    }

    private void step(String phase, String what) {
      long now = System.nanoTime();
      Duration took = Duration.ofNanos(now - stepStarted);
      stepStarted = now;
      log.info(
          "handoff to generation {}: {} ({}) in {} ms on {}",
          successorGeneration, phase, what, took.toMillis(), channel.path());
      events.phaseCompleted("outgoing_" + phase, took);
    }

    /** A refusal before anything changed: typed Refusal frame, WARN line, REFUSED; serve on. */
    private void refuse(RefusalReason reason, String detail) {
      moveTo(SessionState.REFUSED);
      log.warn(
          "handoff refused on {}: {} ({}); peer {}; phase {}",
          channel.path(), reason, detail, peer == null ? "unknown" : peer, SessionState.AWAITING_HELLO);
      sendRefusalQuietly(reason, detail);
      channel.close();
      events.handoffEnded(HandoffResult.REFUSED, reason + ": " + detail);
    }

    /** Bad input after Welcome, before Ready: tell the peer why, then fail as any other pre-Ready failure. */
    private void refuseAfterWelcome(RefusalReason reason, String detail) {
      SessionState phase = state();
      log.warn("handoff refused on {}: {} ({}); peer {}; phase {}", channel.path(), reason, detail, peer, phase);
      sendRefusalQuietly(reason, detail);
      failAndClean(reason + " in " + phase + ": " + detail);
    }

    private void sendRefusalQuietly(RefusalReason reason, String detail) {
      try {
        send(ProtocolVersion.envelope().setRefusal(Refusal.newBuilder().setReason(reason).setDetail(detail)).build());
      } catch (OsException | ControlProtocolException | RuntimeException e) {
        log.debug("handoff: refusal not delivered on {}: {}", channel.path(), e.getMessage());
      }
    }

    /** Before any check passed: nothing to clean. */
    private void fail(String reason) {
      SessionState phase = state();
      moveTo(SessionState.FAILED);
      log.warn("handoff failed on {}: {}; peer {}; phase {}; still serving", channel.path(), reason, peer == null ? "unknown" : peer, phase);
      channel.close();
      events.handoffEnded(HandoffResult.FAILED, reason);
    }

    /** Before Ready, after Welcome: remove the successor's sockets and serve on untouched. */
    private void failAndClean(String reason) {
      SessionState phase = state();
      if (phase.isTerminal()) {
        return;
      }
      moveTo(SessionState.FAILED);
      log.warn(
          "handoff to generation {} failed on {}: {}; peer {}; phase {}; still serving as generation {}",
          successorGeneration, channel.path(), reason, peer, phase, source.generation());
      channel.close();
      runDir.removeQuietly(runDir.listenSocket());
      runDir.removeQuietly(runDir.connSocket());
      events.handoffEnded(HandoffResult.FAILED, reason);
    }
  }

  private static List<io.baton.proto.handoff.v1.PredecessorDrain> toWire(List<PredecessorDrain> chain) {
    return chain.stream()
        .map(p -> io.baton.proto.handoff.v1.PredecessorDrain.newBuilder()
            .setGeneration(p.generation())
            .setPid((int) p.pid())
            .setConnectionsActive(p.progress().connectionsActive())
            .setRequestsActive(p.progress().requestsActive())
            .setConnectionsMigrated(p.progress().connectionsMigrated())
            .build())
        .toList();
  }

  @Override
  public String toString() {
    return "outgoing handoff on " + runDir.reconfigSocket();
  }

  /** For {@link HandoffException} messages elsewhere. */
  public RunDirectory runDirectory() {
    return runDir;
  }
}
