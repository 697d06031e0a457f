package io.baton.handoff.outgoing;

import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffResult;
import io.baton.handoff.os.PeerCredentials;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one session tells the operator and the application: its log lines (one per step, with its
 * duration; one per failure, naming the socket, the peer and the state) and its {@link
 * HandoffEvents} (each step's duration, and how the attempt ended, exactly once). Every line goes
 * to the {@link OutgoingHandoff} logger, the name operators filter the outgoing side by.
 */
final class SessionReport {

  private static final Logger log = LoggerFactory.getLogger(OutgoingHandoff.class);

  private final long sessionId;
  private final Path socket;
  private final HandoffEvents events;
  private final long ownGeneration;
  private PeerCredentials peer;
  private long successorGeneration;
  private long stepStarted = System.nanoTime();

  SessionReport(long sessionId, Path socket, HandoffEvents events, long ownGeneration) {
    this.sessionId = sessionId;
    this.socket = socket;
    this.events = events;
    this.ownGeneration = ownGeneration;
  }

  /** The kernel's word about the peer, for every line from now on. */
  void peer(PeerCredentials peer) {
    this.peer = peer;
  }

  /** The peer was welcomed as generation {@code generation}. */
  void successorGeneration(long generation) {
    this.successorGeneration = generation;
  }

  private String peerOrUnknown() {
    return peer == null ? "unknown" : String.valueOf(peer);
  }

  /**
   * A step of the protocol completed: logged with its duration and counted as {@code
   * outgoing_<phase>}.
   */
  void step(String phase, String what) {
    long now = System.nanoTime();
    Duration took = Duration.ofNanos(now - stepStarted);
    stepStarted = now;
    log.info(
        "handoff to generation {}: {} ({}) in {} ms on {}",
        successorGeneration,
        phase,
        what,
        took.toMillis(),
        socket);
    events.phaseCompleted("outgoing_" + phase, took);
  }

  // ------------------------------------------------------------------ how an attempt ends

  /** Turned away before anything changed; the typed refusal was sent. */
  void refused(Refusal refusal) {
    log.warn(
        "handoff refused on {}: {} ({}); peer {}; phase {}",
        socket,
        refusal.reason(),
        refusal.detail(),
        peerOrUnknown(),
        SessionState.AWAITING_HELLO);
    events.handoffEnded(HandoffResult.REFUSED, refusal.reason() + ": " + refusal.detail());
  }

  /**
   * Bad input after Welcome: refused on the wire; the attempt then fails like any other before
   * Ready.
   */
  void refusedAfterWelcome(RefusalReason reason, String detail, SessionState phase) {
    log.warn(
        "handoff refused on {}: {} ({}); peer {}; phase {}", socket, reason, detail, peer, phase);
  }

  /** Failed before any check passed: nothing to clean. */
  void failedBeforeHello(String reason, SessionState phase) {
    log.warn(
        "handoff failed on {}: {}; peer {}; phase {}; still serving",
        socket,
        reason,
        peerOrUnknown(),
        phase);
    events.handoffEnded(HandoffResult.FAILED, reason);
  }

  /**
   * Failed after Welcome, before Ready: the successor's sockets were removed; this process serves
   * on untouched.
   */
  void failed(String reason, SessionState phase) {
    log.warn(
        "handoff to generation {} failed on {}: {}; peer {}; phase {}; still serving as generation"
            + " {}",
        successorGeneration,
        socket,
        reason,
        peer,
        phase,
        ownGeneration);
    events.handoffEnded(HandoffResult.FAILED, reason);
  }

  /** A held successor was let go: it drains what it accepted; this process never stopped. */
  void abortedWhileHeld(String reason) {
    log.warn(
        "handoff to generation {}: aborted while held: {}; the successor drains what it accepted;"
            + " still serving as generation {}",
        successorGeneration,
        reason,
        ownGeneration);
    events.handoffEnded(HandoffResult.ABORTED, reason);
  }

  void rollingBack(String reason) {
    log.warn("handoff to generation {}: rolling back: {}", successorGeneration, reason);
  }

  /**
   * The successor went away: {@code unowned} of the {@code sent} connections it had not confirmed
   * came back ({@code owned} it had), {@code resumed} of them are served here again.
   */
  void tookBackUnowned(int unowned, int resumed, long sent, long owned) {
    log.info(
        "handoff to generation {}: the successor is gone; {} connection(s) it never touched resume"
            + " here ({} of them served, {} sent to it, {} confirmed by it)",
        successorGeneration,
        unowned,
        resumed,
        sent,
        owned);
  }

  void rolledBack(String reason) {
    events.handoffEnded(HandoffResult.ROLLED_BACK, reason);
  }

  /** Counted before the final counters are taken, so that the successor's count includes it. */
  void succeeded() {
    events.handoffEnded(HandoffResult.SUCCESS, "generation " + successorGeneration + " took over");
  }

  /** Something the session's thread did not expect: a bug, logged with its stack. */
  void unexpected(SessionState phase, RuntimeException error) {
    log.error("handoff session {} on {}: unexpected error in {}", sessionId, socket, phase, error);
  }

  // ------------------------------------------------------------------ what happened on the way

  /** A frame this state does not wait for; it changes nothing. */
  void ignoring(Object what, SessionState phase, String expected) {
    if (phase == SessionState.HELD) {
      log.warn(
          "handoff to generation {}: ignoring {} from peer {} on {} while held (expected: {})",
          successorGeneration,
          what,
          peer,
          socket,
          expected);
    } else {
      log.warn(
          "handoff to generation {}: ignoring {} from peer {} on {} in {} (expected: {})",
          successorGeneration,
          what,
          peer,
          socket,
          phase,
          expected);
    }
  }

  void garbageWhileDraining(SessionState phase, String problem) {
    log.warn(
        "handoff to generation {}: garbage from peer {} on {} in {}: {}",
        successorGeneration,
        peer,
        socket,
        phase,
        problem);
  }

  /** A frame to the successor that may be lost without harm (its EOF handling applies). */
  void notDelivered(String what, String problem) {
    log.debug("handoff: {} not delivered on {}: {}", what, socket, problem);
  }

  void drainingNotSent(String problem) {
    log.warn(
        "handoff to generation {}: cannot send Draining on {}: {}",
        successorGeneration,
        socket,
        problem);
  }

  void drainFinishedNotSent(String problem) {
    log.warn(
        "handoff to generation {}: DrainFinished not sent on {}: {}",
        successorGeneration,
        socket,
        problem);
  }

  void successorTakesNoConnections() {
    log.info(
        "handoff to generation {}: the successor takes no live connections; draining them all here",
        successorGeneration);
  }

  void cannotSendConnections(Path connSocket, String problem) {
    log.warn(
        "handoff to generation {}: cannot send live connections to {}: {}; draining them all here",
        successorGeneration,
        connSocket,
        problem);
  }

  void waitingForOlderGenerations(List<Long> generations) {
    log.info(
        "handoff to generation {}: own drain finished; waiting for the older generations {} to"
            + " finish theirs before DrainFinished (their final counters travel on in ours)",
        successorGeneration,
        generations);
  }

  void predecessorOutlivedItsDeadline() {
    log.warn(
        "handoff to generation {}: the predecessor outlived its drain deadline; saying"
            + " DrainFinished without its final counters",
        successorGeneration);
  }

  /** HandedOn arrived: from now on this process never accepts again. */
  void handedOn(String detail) {
    step(
        "handed_on",
        "the successor said " + detail + ": this process never accepts again; no rollback");
    events.handedOn(detail);
  }

  void successorGoneAfterHandedOn(String how) {
    log.info(
        "handoff to generation {}: the successor (peer {}) closed reconfig.sock after HandedOn; no"
            + " rollback, draining on to this process's own deadline{}",
        successorGeneration,
        peer,
        how);
  }
}
