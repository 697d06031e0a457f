package io.baton.handoff.outgoing;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.DrainProgress;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Hello;
import io.baton.proto.handoff.v1.Ready;
import io.baton.proto.handoff.v1.RefusalReason;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Admission as the pure function it is: a first frame, the kernel's word, the draining chain; no
 * socket.
 */
class AdmissionTest {

  private static final long OWN_UID = 1000;
  private static final long NAMESPACE = 4026531836L;
  private static final ProcessIdentity SELF =
      new ProcessIdentity(10, NAMESPACE, ProcessIdentity.newInstanceId());
  private static final PeerCredentials SUCCESSOR = new PeerCredentials(OWN_UID, 20);
  private static final List<PredecessorDrain> NONE_DRAINING = List.of();

  /** This process is generation 5; at most two generations may drain at once. */
  private final Admission admission = new Admission(new PeerCheck(OWN_UID, SELF), 5, 2);

  @Test
  void aHelloFromAProcessOfOurUidWhosePidMatchesIsAdmitted() {
    assertThat(admission.check(hello(20), SUCCESSOR, NONE_DRAINING, true)).isEmpty();
    assertThat(admission.check(hello(20), new PeerCredentials(0, 20), NONE_DRAINING, true))
        .as("root")
        .isEmpty();
  }

  @Test
  void anotherProtocolVersionIsRefusedBeforeAnythingElseIsRead() {
    Envelope future = hello(20).toBuilder().setProtocolVersion(ProtocolVersion.CURRENT + 1).build();
    assertThat(admission.check(future, new PeerCredentials(1001, 99), NONE_DRAINING, true))
        .hasValue(
            refusal(
                RefusalReason.PROTOCOL_VERSION_MISMATCH,
                "protocol_version: "
                    + (ProtocolVersion.CURRENT + 1)
                    + " (expected: "
                    + ProtocolVersion.CURRENT
                    + ")"));
  }

  @Test
  void aFirstFrameOtherThanHelloIsRefusedAsUnexpected() {
    Envelope ready = ProtocolVersion.envelope().setReady(Ready.getDefaultInstance()).build();
    assertThat(admission.check(ready, SUCCESSOR, NONE_DRAINING, true))
        .hasValue(refusal(RefusalReason.UNEXPECTED_MESSAGE, "message: READY (expected: HELLO)"));
  }

  @Test
  void aPeerOfAnotherUidIsRefused() {
    assertThat(admission.check(hello(20), new PeerCredentials(1001, 20), NONE_DRAINING, true))
        .hasValue(refusal(RefusalReason.PEER_UID_MISMATCH, "peer: uid 1001 (expected: 1000 or 0)"));
  }

  @Test
  void aHelloThatLiesAboutItsPidInOurPidNamespaceIsRefused() {
    Optional<Refusal> refusal = admission.check(hello(21), SUCCESSOR, NONE_DRAINING, true);
    assertThat(refusal).map(Refusal::reason).hasValue(RefusalReason.PEER_PID_MISMATCH);
    assertThat(refusal)
        .map(Refusal::detail)
        .hasValueSatisfying(
            d ->
                assertThat(d)
                    .startsWith("the connecting process (Hello.pid 21): pid 20 (expected: 21"));
  }

  @Test
  void aHandoffThatWouldMakeMoreGenerationsDrainThanAllowedIsRefused() {
    List<PredecessorDrain> two = List.of(draining(4), draining(3));
    assertThat(admission.check(hello(20), SUCCESSOR, List.of(draining(4)), true))
        .as("one drains: a second may")
        .isEmpty();
    assertThat(admission.check(hello(20), SUCCESSOR, two, true))
        .hasValue(
            refusal(
                RefusalReason.PREDECESSOR_DRAINING,
                "generations [4, 3] still drain behind this process (generation 5): handing over"
                    + " would make 3 draining (expected: at most handoff.maxDraining 2); retry once"
                    + " one has drained"));
  }

  @Test
  void aPredecessorThatCannotBeToldHandedOnMustFinishDrainingFirst() {
    Optional<Refusal> refusal = admission.check(hello(20), SUCCESSOR, List.of(draining(4)), false);
    assertThat(refusal).map(Refusal::reason).hasValue(RefusalReason.PREDECESSOR_DRAINING);
    assertThat(refusal)
        .map(Refusal::detail)
        .hasValueSatisfying(
            d ->
                assertThat(d)
                    .startsWith(
                        "this process (generation 5) waits for its predecessor (generation 4) to"
                            + " drain"));
    assertThat(admission.check(hello(20), SUCCESSOR, NONE_DRAINING, false))
        .as("nobody drains: nothing to tell")
        .isEmpty();
  }

  @Test
  void theFirstFailingCheckNamesTheRefusal() {
    assertThat(
            admission.check(
                hello(21), new PeerCredentials(1001, 20), List.of(draining(4), draining(3)), false))
        .map(Refusal::reason)
        .hasValue(RefusalReason.PEER_UID_MISMATCH);
  }

  private static Envelope hello(long pid) {
    return ProtocolVersion.envelope()
        .setHello(
            Hello.newBuilder()
                .setPid((int) pid)
                .setPidNamespace(NAMESPACE)
                .setInstanceId(ProcessIdentity.newInstanceId()))
        .build();
  }

  private static PredecessorDrain draining(long generation) {
    return new PredecessorDrain(generation, 100 + generation, new DrainProgress(1, 0, 0));
  }

  private static Refusal refusal(RefusalReason reason, String detail) {
    return new Refusal(reason, detail);
  }
}
