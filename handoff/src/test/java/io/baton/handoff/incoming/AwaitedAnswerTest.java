package io.baton.handoff.incoming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffRefusedException;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Abort;
import io.baton.proto.handoff.v1.Draining;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Refusal;
import io.baton.proto.handoff.v1.RefusalReason;
import io.baton.proto.handoff.v1.Welcome;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The incoming side's verdict on the answer it waits for, without a socket. */
@Timeout(10)
class AwaitedAnswerTest {

  private static final Path RECONFIG = Path.of("/run/baton/reconfig.sock");

  private static Envelope welcome() {
    return ProtocolVersion.envelope().setWelcome(Welcome.newBuilder().setPid(42)).build();
  }

  private static Envelope abort() {
    return ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason("operator")).build();
  }

  @Test
  void theExpectedAnswerIsReturnedAsItCame() throws HandoffException {
    Envelope welcome = welcome();
    assertThat(AwaitedAnswer.judge(welcome, Envelope.BodyCase.WELCOME, false, RECONFIG))
        .isSameAs(welcome);
  }

  @Test
  void aRefusalEndsTheTakeoverWithItsReasonEvenFromAnotherProtocolVersion() {
    Envelope refusal =
        Envelope.newBuilder()
            .setProtocolVersion(ProtocolVersion.CURRENT + 1)
            .setRefusal(
                Refusal.newBuilder()
                    .setReason(RefusalReason.HANDOFF_IN_PROGRESS)
                    .setDetail("session 3"))
            .build();
    assertThatThrownBy(
            () -> AwaitedAnswer.judge(refusal, Envelope.BodyCase.WELCOME, false, RECONFIG))
        .isInstanceOfSatisfying(
            HandoffRefusedException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.HANDOFF_IN_PROGRESS))
        .hasMessageContaining("session 3");
  }

  @Test
  void anAbortWhileHeldEndsTheTakeoverAsAborted() {
    assertThatThrownBy(
            () -> AwaitedAnswer.judge(abort(), Envelope.BodyCase.DRAINING, true, RECONFIG))
        .isInstanceOf(HandoffAbortedException.class)
        .hasMessageContaining("by the predecessor: operator");
  }

  @Test
  void anAbortWhenNotHeldIsAnUnexpectedMessage() {
    assertThatThrownBy(
            () -> AwaitedAnswer.judge(abort(), Envelope.BodyCase.DRAINING, false, RECONFIG))
        .isInstanceOfSatisfying(
            ControlProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.UNEXPECTED_MESSAGE))
        .hasMessage("handoff: message ABORT on /run/baton/reconfig.sock (expected: DRAINING)");
  }

  @Test
  void anotherProtocolVersionIsAMismatchNamingBoth() {
    Envelope newer = welcome().toBuilder().setProtocolVersion(ProtocolVersion.CURRENT + 1).build();
    assertThatThrownBy(() -> AwaitedAnswer.judge(newer, Envelope.BodyCase.WELCOME, false, RECONFIG))
        .isInstanceOfSatisfying(
            ControlProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.PROTOCOL_VERSION_MISMATCH))
        .hasMessage(
            "handoff: protocol_version: "
                + (ProtocolVersion.CURRENT + 1)
                + " from /run/baton/reconfig.sock (expected: "
                + ProtocolVersion.CURRENT
                + ")");
  }

  @Test
  void anyOtherMessageIsUnexpected() {
    Envelope draining =
        ProtocolVersion.envelope().setDraining(Draining.getDefaultInstance()).build();
    assertThatThrownBy(
            () -> AwaitedAnswer.judge(draining, Envelope.BodyCase.WELCOME, true, RECONFIG))
        .isInstanceOfSatisfying(
            ControlProtocolException.class,
            e -> assertThat(e.reason()).isEqualTo(RefusalReason.UNEXPECTED_MESSAGE))
        .hasMessageContaining("(expected: WELCOME)");
  }
}
