package io.baton.handoff.outgoing;

import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.state.StateMachine;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One connection to {@code reconfig.sock}, from the peer's first frame to its {@link
 * SessionState#TERMINAL terminal} state, on one thread that owns all of its state (tableflip's
 * {@code run()} loop). Every other thread only posts to its {@link SessionInbox}: the {@link
 * FrameReader} what it reads, the ticker a tick, the application's drain its end, the operator a
 * commit or an abort. This thread takes them one at a time, each against the state it finds, and
 * waits for the next with the deadline of that state (step, ready or hold timeout): nothing polls.
 *
 * <p>The roles are others': {@link Admission} judges the first frame, {@link ListenerTransfer}
 * passes the listeners, {@link Hold} and {@link DrainWatch} carry the session after Ready, {@link
 * SessionReport} says what happened. Here: which of them an event goes to, and the endings before
 * Ready (refused, failed), which leave this process serving as if nothing happened.
 */
final class Session {

  private final String name;
  private final ControlChannel channel;
  private final SessionContext context;
  private final OutgoingHandoff server;
  private final SessionInbox inbox = new SessionInbox();
  private final StateMachine<SessionState> machine;
  private final SessionReport report;
  private volatile Thread owner;
  private volatile PeerCredentials peer;
  private long deadlineNanos;
  private Successor successor;
  private Path successorConnSocket;
  private Hold hold;
  private DrainWatch drain;

  Session(long id, ControlChannel channel, SessionContext context, OutgoingHandoff server) {
    this.name = "session-" + id;
    this.channel = channel;
    this.context = context;
    this.server = server;
    this.machine =
        new StateMachine<>(
            "handoff session " + id + " on " + channel.path(), SessionState.AWAITING_HELLO);
    this.report =
        new SessionReport(id, channel.path(), context.events(), context.source().generation());
  }

  SessionState state() {
    return machine.state();
  }

  /** The kernel's word about the peer; null before it was read. */
  PeerCredentials peer() {
    return peer;
  }

  void start() {
    HandoffThreads.start(name, this::run);
  }

  /**
   * Ends this session's hold with a commit or an abort, if it is held when this thread gets to it.
   * Waits for that answer: false if the session was not held (not yet, or no more: a successor that
   * died a moment before was let go, and a commit cannot bring it back).
   */
  boolean decide(boolean commit, String reason) {
    CompletableFuture<Boolean> accepted = new CompletableFuture<>();
    SessionEvent.HoldDecision decision = new SessionEvent.HoldDecision(commit, reason, accepted);
    if (Thread.currentThread() == owner) {
      handle(decision); // asked from this very thread (an event callback): waiting would never end
    } else if (!inbox.post(decision)) {
      return false;
    }
    return accepted.join();
  }

  /**
   * This process is closing: the connection closes, and the session ends as a broken connection
   * makes it end.
   */
  void close() {
    channel.close();
  }

  private void run() {
    owner = Thread.currentThread();
    try {
      try {
        peer = channel.peer();
        report.peer(peer);
      } catch (OsException e) {
        failBeforeHello("cannot read the peer's credentials: " + e.getMessage());
        return;
      }
      new FrameReader(channel, inbox).start("baton-handoff-" + name);
      waitAtMost(context.settings().stepTimeout());
      while (!state().isTerminal()) {
        SessionEvent event =
            deadlineNanos == 0
                ? inbox.next()
                : inbox.next(Duration.ofNanos(deadlineNanos - System.nanoTime()));
        if (event == null) {
          guarded(this::timedOut);
        } else {
          guarded(() -> handle(event));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      channel.close();
    } finally {
      inbox.close();
      if (state() != SessionState.SUCCEEDED) {
        server.slot().release(this);
      }
    }
  }

  /**
   * A bug in a handler must not leave the session hanging: before Ready it fails the attempt (this
   * process serves on untouched); after Ready the session goes on, to end by EOF or its drain as it
   * would have.
   */
  private void guarded(Runnable step) {
    try {
      step.run();
    } catch (RuntimeException e) {
      SessionState phase = state();
      report.unexpected(phase, e);
      if (phase == SessionState.AWAITING_HELLO) {
        failBeforeHello("internal error: " + e);
      } else if (phase.isBeforeReady()) {
        failAndClean("internal error: " + e);
      }
    }
  }

  /** The next wait ends at most {@code timeout} from now (the current state's deadline). */
  private void waitAtMost(Duration timeout) {
    deadlineNanos = System.nanoTime() + timeout.toNanos();
  }

  private void waitForever() {
    deadlineNanos = 0;
  }

  private void timedOut() {
    switch (state()) {
      case AWAITING_HELLO -> failBeforeHello("no Hello within " + context.settings().stepTimeout());
      case AWAITING_LISTEN_SOCKET ->
          failAndClean(
              "no "
                  + Envelope.BodyCase.LISTEN_SOCKET_READY
                  + " within "
                  + context.settings().stepTimeout()
                  + " in "
                  + state());
      case AWAITING_READY ->
          failAndClean(
              "no "
                  + Envelope.BodyCase.READY
                  + " within "
                  + context.settings().readyTimeout()
                  + " in "
                  + state());
      case HELD -> endHold(hold.timedOut());
      default -> waitForever();
    }
  }

  private void handle(SessionEvent event) {
    SessionState now = state();
    if (event instanceof SessionEvent.HoldDecision decision && now != SessionState.HELD) {
      decision.accepted().complete(false);
      return;
    }
    switch (now) {
      case AWAITING_HELLO -> onFirstFrame(event);
      case AWAITING_LISTEN_SOCKET -> onListenSocketReady(event);
      case AWAITING_READY -> onReady(event);
      case HELD -> {
        if (event instanceof SessionEvent.HoldDecision decision) {
          decision.accepted().complete(true);
        }
        endHold(hold.decide(event));
      }
      case DRAINING, HANDED_ON -> drain.on(event);
      default -> {
        // SENDING_LISTENERS is never waited in (the transfer runs on this thread); a terminal
        // session takes no more events.
      }
    }
  }

  // ------------------------------------------------------------------ AWAITING_HELLO

  private void onFirstFrame(SessionEvent event) {
    if (event instanceof SessionEvent.Garbage garbage) {
      refuse(new Refusal(garbage.error().reason(), garbage.error().getMessage()));
    } else if (event instanceof SessionEvent.PeerClosed) {
      failBeforeHello("peer closed before Hello");
    } else if (event instanceof SessionEvent.ReadFailed failed) {
      failBeforeHello(failed.error().getMessage());
    } else if (event instanceof SessionEvent.FrameArrived frame) {
      PredecessorChain chain = context.predecessors();
      Optional<Refusal> refusal =
          context
              .admission()
              .check(frame.envelope(), peer, chain.draining(), chain.understandsHandedOn());
      if (refusal.isPresent()) {
        refuse(refusal.get());
      } else if (!server.slot().claim(this)) {
        Optional<Session> other = server.slot().holder();
        refuse(
            new Refusal(
                RefusalReason.HANDOFF_IN_PROGRESS,
                "another handoff is under way (peer "
                    + other.map(Session::peer).map(String::valueOf).orElse("?")
                    + ", "
                    + other.map(Session::state).map(String::valueOf).orElse("?")
                    + ")"));
      } else {
        welcome(frame.envelope().getHello());
      }
    }
  }

  private void welcome(Hello hello) {
    ProcessIdentity identity =
        new ProcessIdentity(hello.getPid(), hello.getPidNamespace(), hello.getInstanceId());
    successor =
        new Successor(
            identity,
            context.source().generation() + 1,
            hello.getHold(),
            ProtocolVersion.revisionOf(hello.getProtocolRevision()));
    report.successorGeneration(successor.generation());
    if (!send(
        OutgoingMessages.welcome(
            context.peers().self(),
            context.settings().buildVersion(),
            context.source().generation()))) {
      return;
    }
    report.step(
        "welcome",
        "welcomed " + identity + " (kernel: " + peer + ") build " + hello.getBuildVersion());
    machine.moveTo(SessionState.AWAITING_LISTEN_SOCKET);
    waitAtMost(context.settings().stepTimeout());
  }

  // ------------------------------------------------------------------ AWAITING_LISTEN_SOCKET,
  // SENDING_LISTENERS

  private void onListenSocketReady(SessionEvent event) {
    Envelope envelope = expected(event, Envelope.BodyCase.LISTEN_SOCKET_READY);
    if (envelope == null) {
      return;
    }
    RunDirectory runDir = context.runDir();
    String announced = envelope.getListenSocketReady().getPath();
    if (!announced.isEmpty() && !announced.equals(runDir.listenSocket().toString())) {
      refuseAfterWelcome(
          RefusalReason.MALFORMED_MESSAGE,
          "ListenSocketReady.path: " + announced + " (expected: " + runDir.listenSocket() + ")");
      return;
    }
    String connPath = envelope.getListenSocketReady().getConnPath();
    if (!connPath.isEmpty() && !connPath.equals(runDir.connSocket().toString())) {
      refuseAfterWelcome(
          RefusalReason.MALFORMED_MESSAGE,
          "ListenSocketReady.conn_path: "
              + connPath
              + " (expected: empty or "
              + runDir.connSocket()
              + ")");
      return;
    }
    successorConnSocket = connPath.isEmpty() ? null : runDir.connSocket();
    machine.moveTo(SessionState.SENDING_LISTENERS);
    ListenerTransfer transfer =
        new ListenerTransfer(
            runDir.listenSocket(),
            context.settings().stepTimeout(),
            context.peers(),
            context.source());
    Optional<String> problem;
    try {
      problem = transfer.passTo(successor.identity());
    } catch (OsException | ControlProtocolException e) {
      problem = Optional.of(e.getMessage());
    }
    if (problem.isPresent()) {
      failAndClean(problem.get());
      return;
    }
    report.step("listeners_sent", "listeners passed");
    machine.moveTo(SessionState.AWAITING_READY);
    waitAtMost(context.settings().readyTimeout());
  }

  // ------------------------------------------------------------------ AWAITING_READY, then HELD or
  // DRAINING

  private void onReady(SessionEvent event) {
    Envelope envelope = expected(event, Envelope.BodyCase.READY);
    if (envelope == null) {
      return;
    }
    report.step("ready_received", "successor accepts on every listener");
    Set<String> adopted = Set.copyOf(envelope.getReady().getAdoptedListenersList());
    if (successor.holdRequested()) {
      hold =
          new Hold(
              adopted,
              context.settings().hold().timeout(),
              machine,
              channel,
              context.runDir(),
              report);
      hold.begin();
      waitAtMost(hold.limit());
    } else {
      beginDrain(adopted);
    }
  }

  private void endHold(Hold.Outcome outcome) {
    if (outcome instanceof Hold.Outcome.Commit commit) {
      report.step("committed", commit.reason());
      beginDrain(hold.adoptedListeners());
    } else if (outcome instanceof Hold.Outcome.Abort abort) {
      hold.abort(abort.reason(), abort.tellSuccessor());
    }
  }

  private void beginDrain(Set<String> adopted) {
    waitForever(); // from now on only the drain's end or the successor's EOF ends the session
    drain =
        new DrainWatch(
            context, machine, channel, inbox, report, successor, peer, successorConnSocket, server);
    drain.begin(adopted);
  }

  // ------------------------------------------------------------------ before Ready: the one frame
  // each state waits for

  /**
   * The frame of kind {@code expected}, or null after ending the session: an Abort, EOF, garbage or
   * another message before Ready fails the attempt and leaves this process as it was.
   */
  private Envelope expected(SessionEvent event, Envelope.BodyCase expected) {
    if (event instanceof SessionEvent.Garbage garbage) {
      refuseAfterWelcome(garbage.error().reason(), garbage.error().getMessage());
    } else if (event instanceof SessionEvent.PeerClosed) {
      failAndClean("successor closed the connection in " + state() + " (it exited or died)");
    } else if (event instanceof SessionEvent.ReadFailed failed) {
      failAndClean(failed.error().getMessage());
    } else if (event instanceof SessionEvent.FrameArrived frame) {
      Envelope envelope = frame.envelope();
      if (envelope.getBodyCase() == Envelope.BodyCase.ABORT) {
        failAndClean("successor aborted in " + state() + ": " + envelope.getAbort().getReason());
      } else if (!ProtocolVersion.compatible(envelope.getProtocolVersion())) {
        refuseAfterWelcome(
            RefusalReason.PROTOCOL_VERSION_MISMATCH,
            "protocol_version: "
                + envelope.getProtocolVersion()
                + " (expected: "
                + ProtocolVersion.CURRENT
                + ")");
      } else if (envelope.getBodyCase() != expected) {
        refuseAfterWelcome(
            RefusalReason.UNEXPECTED_MESSAGE,
            "message: " + envelope.getBodyCase() + " (expected: " + expected + ")");
      } else {
        return envelope;
      }
    }
    return null;
  }

  /** Sends {@code envelope}; false after failing the attempt if it could not be sent. */
  private boolean send(Envelope envelope) {
    try {
      channel.send(envelope);
      return true;
    } catch (OsException | ControlProtocolException e) {
      failAndClean(e.getMessage());
      return false;
    }
  }

  // ------------------------------------------------------------------ endings before Ready: this
  // process serves on untouched

  /** A refusal before anything changed: typed Refusal frame, WARN line, REFUSED; serve on. */
  private void refuse(Refusal refusal) {
    machine.moveTo(SessionState.REFUSED);
    report.refused(refusal);
    sendQuietly(OutgoingMessages.refusal(refusal));
    channel.close();
  }

  /** Bad input after Welcome: tell the peer why, then fail as any other failure before Ready. */
  private void refuseAfterWelcome(RefusalReason reason, String detail) {
    SessionState phase = state();
    report.refusedAfterWelcome(reason, detail, phase);
    sendQuietly(OutgoingMessages.refusal(new Refusal(reason, detail)));
    failAndClean(reason + " in " + phase + ": " + detail);
  }

  /** Before any check passed: nothing to clean. */
  private void failBeforeHello(String reason) {
    SessionState phase = state();
    machine.moveTo(SessionState.FAILED);
    report.failedBeforeHello(reason, phase);
    channel.close();
  }

  /** After Welcome, before Ready: remove the successor's sockets and serve on untouched. */
  private void failAndClean(String reason) {
    SessionState phase = state();
    machine.moveTo(SessionState.FAILED);
    channel.close();
    context.runDir().removeQuietly(context.runDir().listenSocket());
    context.runDir().removeQuietly(context.runDir().connSocket());
    report.failed(reason, phase);
  }

  private void sendQuietly(Envelope envelope) {
    try {
      channel.send(envelope);
    } catch (OsException | ControlProtocolException | RuntimeException e) {
      report.notDelivered("refusal", e.getMessage());
    }
  }

  @Override
  public String toString() {
    return machine.toString();
  }
}
