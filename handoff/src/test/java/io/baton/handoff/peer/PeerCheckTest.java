package io.baton.handoff.peer;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.os.PeerCredentials;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PeerCheckTest {

  private static final long OWN_UID = 1000;
  private static final long OUR_NAMESPACE = 4026531836L;
  private static final ProcessIdentity SELF =
      new ProcessIdentity(42, OUR_NAMESPACE, ProcessIdentity.newInstanceId());
  private final PeerCheck check = new PeerCheck(OWN_UID, SELF);

  @Test
  void aPeerOfAnotherUidIsRefusedAndRootIsNot() {
    assertThat(check.uidProblem("peer", new PeerCredentials(1001, 7)))
        .hasValue("peer: uid 1001 (expected: 1000 or 0)");
    assertThat(check.uidProblem("peer", new PeerCredentials(0, 7))).isEmpty();
    assertThat(check.uidProblem("peer", new PeerCredentials(OWN_UID, 7))).isEmpty();
  }

  @Test
  void aPidThatDiffersWithinOurOwnPidNamespaceIsRefused() {
    ProcessIdentity claimed = new ProcessIdentity(7, OUR_NAMESPACE, "");
    assertThat(check.pidProblem("peer", new PeerCredentials(OWN_UID, 8), claimed))
        .hasValueSatisfying(problem -> assertThat(problem).startsWith("peer: pid 8 (expected: 7"));
    assertThat(check.pidProblem("peer", new PeerCredentials(OWN_UID, 7), claimed)).isEmpty();
  }

  /**
   * A pod, or `unshare --pid`: the peer is pid 1 in its namespace and another number (or none)
   * here.
   */
  @Test
  void aPeerInAnotherPidNamespaceIsNotJudgedByItsPid() {
    ProcessIdentity inAContainer =
        new ProcessIdentity(1, OUR_NAMESPACE + 1, ProcessIdentity.newInstanceId());
    assertThat(check.pidProblem("peer", new PeerCredentials(OWN_UID, 31337), inAContainer))
        .isEmpty();
    assertThat(check.pidProblem("peer", new PeerCredentials(OWN_UID, 0), inAContainer)).isEmpty();
  }

  /**
   * An older binary says no namespace: compared wherever the kernel shows a pid, as it does itself.
   */
  @Test
  void aPeerThatSaysNoPidNamespaceIsComparedWhereverItsPidIsVisible() {
    ProcessIdentity legacy = new ProcessIdentity(7, 0, "");
    assertThat(check.pidProblem("peer", new PeerCredentials(OWN_UID, 8), legacy)).isPresent();
    assertThat(check.pidProblem("peer", new PeerCredentials(OWN_UID, 0), legacy)).isEmpty();
  }

  @Test
  void whenWeCannotTellOurOwnNamespaceOnlyAPeerThatSaysNoneIsCompared() {
    PeerCheck blind =
        new PeerCheck(OWN_UID, new ProcessIdentity(42, 0, ProcessIdentity.newInstanceId()));
    assertThat(
            blind.pidProblem(
                "peer", new PeerCredentials(OWN_UID, 8), new ProcessIdentity(7, OUR_NAMESPACE, "")))
        .isEmpty();
    assertThat(
            blind.pidProblem(
                "peer", new PeerCredentials(OWN_UID, 8), new ProcessIdentity(7, 0, "")))
        .isPresent();
  }

  @Test
  void thisProcessKnowsItsPidNamespaceAndGetsAFreshInstanceIdEachTime() {
    ProcessIdentity a = ProcessIdentity.ofThisProcess();
    ProcessIdentity b = ProcessIdentity.ofThisProcess();
    assertThat(a.pidNamespace())
        .isPositive()
        .isEqualTo(ProcessIdentity.readPidNamespace(Path.of("/proc/self/ns/pid")));
    assertThat(a.pid()).isEqualTo(ProcessHandle.current().pid());
    assertThat(a.instanceId()).isNotEqualTo(b.instanceId());
    assertThat(ProcessIdentity.isInstanceId(a.instanceId())).isTrue();
    assertThat(ProcessIdentity.isInstanceId("12345")).as("a pid is never an instance id").isFalse();
  }

  @Test
  void anUnreadableNamespaceLinkReadsAsUnknown() {
    assertThat(ProcessIdentity.readPidNamespace(Path.of("/nonexistent/ns/pid"))).isZero();
  }
}
