package io.baton.handoff.outgoing;

import io.baton.handoff.ConnectionSink;
import io.baton.handoff.Drain;
import io.baton.handoff.DrainOutcome;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.migration.ConnectionSender;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.state.StateMachine;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.HandedOn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A session from the moment this process stops accepting ({@link SessionState#DRAINING}, then
 * perhaps {@link SessionState#HANDED_ON}) to its end: it begins the application's drain, streams
 * its progress to the successor, watches the successor (EOF before HandedOn means it died: roll
 * back; after HandedOn only that it is gone), and says DrainFinished once this process's drain and
 * those of the generations behind it have finished.
 *
 * <p>Chained drains: the drain begins by telling this process's own draining predecessor HandedOn,
 * and DrainFinished waits for that predecessor too, so that its final counters, added to this
 * process's, travel on in ours.
 */
final class DrainWatch {

  /** How often the drain progress is streamed to the successor. */
  static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

  private final SessionContext context;
  private final StateMachine<SessionState> machine;
  private final ControlChannel channel;
  private final SessionInbox inbox;
  private final SessionReport report;
  private final Successor successor;
  private final PeerCredentials peer;

  /** The successor's conn.sock, or null if it takes no live connections. */
  private final Path successorConnSocket;

  private final OutgoingHandoff server;
  private Drain drain;
  private ConnectionSender connections;
  private ScheduledFuture<?> progressTask;
  private DrainOutcome ownOutcome;
  private Throwable ownError;

  DrainWatch(
      SessionContext context,
      StateMachine<SessionState> machine,
      ControlChannel channel,
      SessionInbox inbox,
      SessionReport report,
      Successor successor,
      PeerCredentials peer,
      Path successorConnSocket,
      OutgoingHandoff server) {
    this.context = context;
    this.machine = machine;
    this.channel = channel;
    this.inbox = inbox;
    this.report = report;
    this.successor = successor;
    this.peer = peer;
    this.successorConnSocket = successorConnSocket;
    this.server = server;
  }

  /** Ready (or a commit): this process stops accepting on {@code adoptedListeners} and drains. */
  void begin(Set<String> adoptedListeners) {
    machine.moveTo(SessionState.DRAINING);
    // Before this process stops accepting: the predecessor stops sending live connections here
    // (this process would only pass them on) and never rolls back, whatever happens to us now.
    context
        .predecessors()
        .handOn(
            HandedOn.Why.SUCCESSOR_TOOK_OVER,
            successor.generation(),
            "generation "
                + context.source().generation()
                + " handed over to generation "
                + successor.generation());
    drain = context.source().beginDrain(adoptedListeners, connectToSuccessor());
    try {
      // Counted after accepting stopped: what the successor adds before its admin listener opens.
      channel.send(
          OutgoingMessages.draining(
              context.source().counters(),
              drain.deadlineUnixMillis(),
              context.predecessors().draining()));
    } catch (OsException | ControlProtocolException e) {
      // The reader sees the EOF, and this session rolls back.
      report.drainingNotSent(e.getMessage());
    }
    report.step("draining", "stopped accepting, draining");
    drain
        .completion()
        .whenComplete(
            (outcome, error) -> inbox.post(new SessionEvent.OwnDrainEnded(outcome, error)));
    progressTask =
        context
            .ticker()
            .scheduleAtFixedRate(
                () -> inbox.post(new SessionEvent.ProgressTick()),
                0,
                PROGRESS_INTERVAL.toMillis(),
                TimeUnit.MILLISECONDS);
  }

  /**
   * Connects to the successor's conn.sock. A successor that offers none, or one that cannot be
   * reached, gets no live connections: this process drains them all.
   */
  private ConnectionSink connectToSuccessor() {
    if (successorConnSocket == null) {
      report.successorTakesNoConnections();
      return ConnectionSink.NONE;
    }
    try {
      connections =
          ConnectionSender.connect(
              successorConnSocket,
              context.peers(),
              successor.identity(),
              context.settings().stepTimeout(),
              successor.confirmsOwnership(),
              context.source()::successorOwns);
      return connections;
    } catch (OsException | ControlProtocolException e) {
      report.cannotSendConnections(successorConnSocket, e.getMessage());
      return ConnectionSink.NONE;
    }
  }

  /** One event while draining. */
  void on(SessionEvent event) {
    if (event instanceof SessionEvent.ProgressTick) {
      sendProgress();
    } else if (event instanceof SessionEvent.OwnDrainEnded ended) {
      ownDrainEnded(ended.outcome(), ended.error());
    } else if (event instanceof SessionEvent.PredecessorsGone gone) {
      if (!gone.finished()) {
        report.predecessorOutlivedItsDeadline();
      }
      finish();
    } else if (event instanceof SessionEvent.FrameArrived frame) {
      onFrame(frame.envelope());
    } else if (event instanceof SessionEvent.PeerClosed) {
      successorGone(
          "successor (peer "
              + peer
              + ") closed reconfig.sock while this process drained: it exited or died",
          "");
    } else if (event instanceof SessionEvent.ReadFailed failed) {
      // A successor that closes with our drain progress still unread in its socket makes the read
      // fail with ECONNRESET instead of EOF: the same end, said differently.
      successorGone(
          "reconfig.sock connection to the successor failed while draining: "
              + failed.error().getMessage(),
          " (" + failed.error().getMessage() + ")");
    } else if (event instanceof SessionEvent.Garbage garbage) {
      // The stream is out of step; the handoff is committed, so only EOF can still matter.
      report.garbageWhileDraining(machine.state(), garbage.error().getMessage());
    }
  }

  private void onFrame(Envelope envelope) {
    if (envelope.getBodyCase() != Envelope.BodyCase.HANDED_ON) {
      report.ignoring(envelope.getBodyCase(), machine.state(), "nothing, or HANDED_ON");
      return;
    }
    HandedOn handedOn = envelope.getHandedOn();
    String detail = handedOn.getWhy() + " (" + handedOn.getDetail() + ")";
    if (!machine.moveFrom(SessionState.DRAINING, SessionState.HANDED_ON)) {
      report.ignoring("HandedOn " + detail, machine.state(), "DRAINING, once");
      return;
    }
    report.handedOn(detail);
    if (connections != null) {
      // The rest drains here: the successor would only have to pass them on, or it is stopping.
      connections.finish();
    }
  }

  /**
   * EOF or a broken connection: before HandedOn the successor died (roll back); after it, it is
   * only gone.
   */
  private void successorGone(String rollbackReason, String how) {
    if (machine.state() == SessionState.HANDED_ON) {
      report.successorGoneAfterHandedOn(how);
      takeBackUnowned();
    } else {
      rollBack(rollbackReason);
    }
  }

  /**
   * The successor is gone: the connections it never confirmed (it never touched them) are served
   * here again, after a rollback as this process's own, after HandedOn drained with the rest.
   */
  private void takeBackUnowned() {
    ConnectionSender sender = connections;
    if (sender == null) {
      return;
    }
    sender
        .takeBackUnowned()
        .thenAccept(
            unowned -> {
              int resumed = 0;
              for (LiveConnection connection : unowned) {
                if (context.source().resumeUnowned(connection)) {
                  resumed++;
                } else {
                  Fds.closeAllQuietly(connection.fds());
                }
              }
              report.tookBackUnowned(unowned.size(), resumed, sender.sent(), sender.owned());
            });
  }

  private void sendProgress() {
    ConnectionSender sender = connections;
    if (sender != null) {
      sender.checkNotStuck();
    }
    try {
      channel.send(
          OutgoingMessages.progress(
              drain.progress(), connectionsSent(), context.predecessors().draining()));
    } catch (OsException | ControlProtocolException | RuntimeException e) {
      report.notDelivered("drain progress", e.getMessage());
    }
  }

  /**
   * This process's own connections are done. DrainFinished waits for the predecessor (if it still
   * drains) so that its final counters, reported here and added to ours, travel on in ours.
   */
  private void ownDrainEnded(DrainOutcome outcome, Throwable error) {
    ownOutcome = outcome;
    ownError = error;
    CompletableFuture<Boolean> gone = context.predecessors().gone();
    if (!gone.isDone()) {
      report.waitingForOlderGenerations(
          context.predecessors().draining().stream().map(PredecessorDrain::generation).toList());
    }
    gone.whenComplete(
        (finished, ignored) ->
            inbox.post(new SessionEvent.PredecessorsGone(!Boolean.FALSE.equals(finished))));
  }

  /**
   * DRAINING or HANDED_ON to SUCCEEDED: DrainFinished carries the final counters; reconfig.sock is
   * the successor's.
   */
  private void finish() {
    machine.moveTo(SessionState.SUCCEEDED);
    cancelProgress();
    if (connections != null) {
      connections.finish();
      connections.close();
    }
    DrainOutcome result = ownOutcome != null ? ownOutcome : new DrainOutcome(0, Duration.ZERO);
    report.succeeded();
    try {
      channel.send(
          OutgoingMessages.drainFinished(result, context.source().counters(), connectionsSent()));
    } catch (OsException | ControlProtocolException e) {
      report.drainFinishedNotSent(e.getMessage());
    }
    channel.close();
    report.step(
        "drain",
        "drain finished, " + result.closedAtDeadline() + " connection(s) closed at the deadline");
    server.handedOver();
    if (ownError != null) {
      context.successorTookOver().completeExceptionally(ownError);
    } else {
      context.successorTookOver().complete(result);
    }
  }

  /**
   * DRAINING to ROLLED_BACK: the successor died; this process accepts again and serves
   * reconfig.sock.
   */
  private void rollBack(String reason) {
    machine.moveTo(SessionState.ROLLED_BACK);
    cancelProgress();
    channel.close();
    report.rollingBack(reason);
    if (connections != null) {
      connections.abandon("the handoff rolled back");
    }
    context.source().rollBack(reason);
    // After the rollback: what comes back is served by an active process, not drained.
    takeBackUnowned();
    server.serveAgainAfterRollback();
    report.rolledBack(reason);
  }

  private long connectionsSent() {
    return connections == null ? 0 : connections.sent();
  }

  private void cancelProgress() {
    if (progressTask != null) {
      progressTask.cancel(false);
    }
  }
}
