package io.baton.handoff.outgoing;

import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.RefusalReason;
import java.util.List;
import java.util.Optional;

/**
 * Whether a peer's first frame on reconfig.sock may start a handoff (the checks the protocol makes
 * while the session is {@link SessionState#AWAITING_HELLO}): a pure function of that frame, the
 * kernel's word about the peer (SO_PEERCRED) and the older generations still draining behind this
 * process. No socket, no clock, no state: what it returns is what the session answers.
 *
 * <p>The checks run in this order, and the first that fails names the refusal: the protocol
 * version, the message (Hello), the peer's uid, its pid (where comparable, {@link PeerCheck}), the
 * chain of draining generations. Whether another handoff is already under way is not asked here:
 * that answer must be taken atomically with the session's claim on the baton ({@link BatonSlot}).
 */
final class Admission {

  private final PeerCheck peers;
  private final long ownGeneration;
  private final int maxDraining;

  /**
   * @param ownGeneration this process's generation, for the refusal's detail
   * @param maxDraining {@code handoff.maxDraining}: how many generations may drain at once
   */
  Admission(PeerCheck peers, long ownGeneration, int maxDraining) {
    this.peers = peers;
    this.ownGeneration = ownGeneration;
    this.maxDraining = maxDraining;
  }

  /**
   * Empty when {@code first} is a Hello this process may hand over to; otherwise the refusal.
   *
   * @param draining the older generations still draining, newest first (empty after a cold start)
   * @param predecessorUnderstandsHandedOn whether the newest of them can be told HandedOn (protocol
   *     revision 2 or later)
   */
  Optional<Refusal> check(
      Envelope first,
      PeerCredentials peer,
      List<PredecessorDrain> draining,
      boolean predecessorUnderstandsHandedOn) {
    if (!ProtocolVersion.compatible(first.getProtocolVersion())) {
      return refuse(
          RefusalReason.PROTOCOL_VERSION_MISMATCH,
          "protocol_version: "
              + first.getProtocolVersion()
              + " (expected: "
              + ProtocolVersion.CURRENT
              + ")");
    }
    if (first.getBodyCase() != Envelope.BodyCase.HELLO) {
      return refuse(
          RefusalReason.UNEXPECTED_MESSAGE,
          "message: " + first.getBodyCase() + " (expected: HELLO)");
    }
    Hello hello = first.getHello();
    Optional<String> uidProblem = peers.uidProblem("peer", peer);
    if (uidProblem.isPresent()) {
      return refuse(RefusalReason.PEER_UID_MISMATCH, uidProblem.get());
    }
    ProcessIdentity claimed =
        new ProcessIdentity(hello.getPid(), hello.getPidNamespace(), hello.getInstanceId());
    Optional<String> pidProblem =
        peers.pidProblem(
            "the connecting process (Hello.pid " + hello.getPid() + ")", peer, claimed);
    if (pidProblem.isPresent()) {
      return refuse(RefusalReason.PEER_PID_MISMATCH, pidProblem.get());
    }
    return chainProblem(draining, predecessorUnderstandsHandedOn)
        .flatMap(p -> refuse(RefusalReason.PREDECESSOR_DRAINING, p));
  }

  /** Empty if the older generations still draining allow one more; else why not. */
  private Optional<String> chainProblem(
      List<PredecessorDrain> draining, boolean predecessorUnderstandsHandedOn) {
    if (draining.isEmpty()) {
      return Optional.empty();
    }
    List<Long> generations = draining.stream().map(PredecessorDrain::generation).toList();
    if (!predecessorUnderstandsHandedOn) {
      return Optional.of(
          "this process (generation "
              + ownGeneration
              + ") waits for its predecessor (generation "
              + generations.get(0)
              + ") to drain: it speaks handoff protocol revision 1 and could not be told HandedOn "
              + "(expected: >= "
              + ProtocolVersion.HANDED_ON_REVISION
              + "); retry once it has drained");
    }
    if (draining.size() >= maxDraining) {
      return Optional.of(
          "generations "
              + generations
              + " still drain behind this process (generation "
              + ownGeneration
              + "): handing over would make "
              + (draining.size() + 1)
              + " draining (expected: at most handoff.maxDraining "
              + maxDraining
              + "); retry once one has drained");
    }
    return Optional.empty();
  }

  private static Optional<Refusal> refuse(RefusalReason reason, String detail) {
    return Optional.of(new Refusal(reason, detail));
  }
}
