package io.baton.handoff.incoming;

import io.baton.handoff.HandoffEvents;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.proto.handoff.v1.HandedOn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the incoming side tells the operator: one line per step with its duration (also counted as
 * {@code incoming_<phase>} through {@link HandoffEvents}), and one per thing that went wrong on the
 * way, naming the generation, the predecessor and the socket. Every line goes to the {@link
 * IncomingHandoff} logger, the name operators filter the incoming side by.
 */
final class IncomingReport {

  private static final Logger log = LoggerFactory.getLogger(IncomingHandoff.class);

  private final HandoffEvents events;
  private long stepStarted = System.nanoTime();
  // Set by the arriving thread, read by the follower and by whoever hands on or aborts.
  private volatile long generation;

  /** Who the predecessor said it is in Welcome. */
  private volatile ProcessIdentity predecessor = new ProcessIdentity(0, 0, "");

  IncomingReport(HandoffEvents events) {
    this.events = events;
  }

  /** The first step's duration counts from here. */
  void startClock() {
    stepStarted = System.nanoTime();
  }

  /** Welcome said who the predecessor is, and with it this process's generation. */
  void welcomedBy(ProcessIdentity predecessor, long generation) {
    this.predecessor = predecessor;
    this.generation = generation;
  }

  /** A step of the protocol completed: logged with its duration, counted as {@code incoming_*}. */
  void step(String phase, String what) {
    long now = System.nanoTime();
    Duration took = Duration.ofNanos(now - stepStarted);
    stepStarted = now;
    log.info("handoff (generation {}): {} ({}) in {} ms", generation, phase, what, took.toMillis());
    events.phaseCompleted("incoming_" + phase, took);
  }

  // ------------------------------------------------------------------ arriving

  void coldStart(Path reconfigPath) {
    log.info("handoff: no {}: cold start", reconfigPath);
  }

  void staleSocket(Path reconfigPath) {
    log.info(
        "handoff: {} refuses connections (stale, its owner died): removing it, cold start",
        reconfigPath);
  }

  // ------------------------------------------------------------------ Ready and the commit

  void olderGenerationsDrain(List<PredecessorDrain> older) {
    if (!older.isEmpty()) {
      log.info(
          "handoff (generation {}): {} older generation(s) still drain behind the predecessor:"
              + " {}",
          generation,
          older.size(),
          older);
    }
  }

  void predecessorDiedBeforeDraining(Path reconfigPath) {
    log.warn(
        "handoff (generation {}): predecessor {} closed {} instead of saying Draining (it died);"
            + " serving anyway",
        generation,
        predecessor,
        reconfigPath);
  }

  void noDraining(String problem) {
    log.warn(
        "handoff (generation {}): no Draining from predecessor {}: {}; serving anyway",
        generation,
        predecessor,
        problem);
  }

  void nowServing(Path reconfigPath, ProcessIdentity self) {
    log.info(
        "handoff (generation {}): {} is now served by this process ({})",
        generation,
        reconfigPath,
        self);
  }

  // ------------------------------------------------------------------ following the drain

  void ignoringWhileFollowing(Object what, Path reconfigPath) {
    log.warn(
        "handoff (generation {}): ignoring {} from predecessor {} on {} (expected:"
            + " DRAIN_PROGRESS or DRAIN_FINISHED)",
        generation,
        what,
        predecessor,
        reconfigPath);
  }

  void predecessorExited(Path reconfigPath) {
    log.info(
        "handoff (generation {}): predecessor {} closed {}: it exited",
        generation,
        predecessor,
        reconfigPath);
  }

  void lostTheDrain(Path reconfigPath, String problem) {
    log.warn(
        "handoff (generation {}): lost the predecessor's drain on {}: {}",
        generation,
        reconfigPath,
        problem);
  }

  // ------------------------------------------------------------------ giving up and handing on

  void abortNotDeliveredClosing(Path reconfigPath, String problem) {
    log.warn("handoff: Abort not delivered on {}: {}; closing it instead", reconfigPath, problem);
  }

  void abortNotDelivered(Path reconfigPath, String problem) {
    log.warn("handoff: Abort not delivered on {}: {}", reconfigPath, problem);
  }

  void aborted(String reason) {
    log.warn("handoff (generation {}): aborted: {}", generation, reason);
  }

  void cannotTellHandedOn(int predecessorRevision, HandedOn.Why why, int neededRevision) {
    log.warn(
        "handoff (generation {}): predecessor {} speaks revision {} and cannot be told {}"
            + " (expected: >= {})",
        generation,
        predecessor,
        predecessorRevision,
        why,
        neededRevision);
  }

  void handedOn(HandedOn.Why why) {
    step(
        "handed_on",
        "told predecessor "
            + predecessor
            + " (generation "
            + (generation - 1)
            + ") "
            + why
            + ": it never accepts again and drains on");
  }

  void handedOnNotDelivered(Path reconfigPath, String problem) {
    log.warn(
        "handoff (generation {}): HandedOn not delivered to predecessor {} on {}: {}",
        generation,
        predecessor,
        reconfigPath,
        problem);
  }
}
