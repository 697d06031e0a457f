package io.baton.handoff.outgoing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.handoff.state.StateMachine;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Abort;
import io.baton.proto.handoff.v1.Envelope;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The races of a hold, taken in the order the session's one thread takes its events: whatever
 * arrives first decides, and what comes after meets the state the first one left. No socket: a
 * hold's decision touches none ({@link Hold#decide}), and the session's loop is the inbox, the
 * decision and the move.
 */
@Timeout(10)
class HoldRacesTest {

  private final StateMachine<SessionState> session = SessionStateTest.sessionIn(SessionState.HELD);
  private final SessionInbox inbox = new SessionInbox();

  /** No connection, run directory or report: {@link Hold#decide} uses none for these events. */
  private final Hold hold =
      new Hold(Set.of("http"), Duration.ofHours(1), session, null, null, null);

  @Test
  void aCommitWhileTheSuccessorDiesEndsTheHoldAsAnAbortAndTheCommitIsAnsweredFalse()
      throws Exception {
    CompletableFuture<Boolean> commitAccepted = new CompletableFuture<>();
    inbox.post(new SessionEvent.PeerClosed()); // the successor died...
    inbox.post(
        new SessionEvent.HoldDecision(
            true, "baton commit", commitAccepted)); // ...as the operator committed

    Hold.Outcome first = hold.decide(inbox.next(Duration.ZERO));
    assertThat(first)
        .isInstanceOfSatisfying(
            Hold.Outcome.Abort.class,
            abort -> {
              assertThat(abort.tellSuccessor()).as("nobody left to tell").isFalse();
              assertThat(abort.reason()).contains("closed reconfig.sock while held");
            });
    session.moveTo(SessionState.ABORTED);
    inbox.close(); // the loop ends with the terminal state

    assertThat(commitAccepted).isCompletedWithValue(false);
    assertThat(
            inbox.post(new SessionEvent.HoldDecision(true, "too late", new CompletableFuture<>())))
        .as("a decision after the end is refused at once, never lost")
        .isFalse();
    assertThatThrownBy(() -> session.moveTo(SessionState.DRAINING))
        .as("a dead successor is never committed to")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aCommitThatComesFirstWinsAndTheSuccessorsCrossingAbortMeetsADrainingSession()
      throws Exception {
    CompletableFuture<Boolean> commitAccepted = new CompletableFuture<>();
    inbox.post(new SessionEvent.HoldDecision(true, "baton commit", commitAccepted));
    inbox.post(new SessionEvent.FrameArrived(abortFrame("SIGTERM")));

    SessionEvent first = inbox.next(Duration.ZERO);
    assertThat(hold.decide(first)).isEqualTo(new Hold.Outcome.Commit("baton commit"));
    ((SessionEvent.HoldDecision) first).accepted().complete(true);
    session.moveTo(SessionState.DRAINING);

    assertThat(commitAccepted).isCompletedWithValue(true);
    assertThat(inbox.next(Duration.ZERO)).isInstanceOf(SessionEvent.FrameArrived.class);
    assertThatThrownBy(() -> session.moveTo(SessionState.ABORTED))
        .as(
            "committed: the successor's Abort can no longer end the session, only its EOF (roll"
                + " back)")
        .isInstanceOf(IllegalStateException.class);
    assertThat(SessionState.DRAINING.next()).contains(SessionState.ROLLED_BACK);
  }

  @Test
  void anAbortThatComesFirstWinsAndTheCrossingCommitIsAnsweredFalse() throws Exception {
    CompletableFuture<Boolean> commitAccepted = new CompletableFuture<>();
    inbox.post(new SessionEvent.FrameArrived(abortFrame("SIGTERM")));
    inbox.post(new SessionEvent.HoldDecision(true, "baton commit", commitAccepted));

    assertThat(hold.decide(inbox.next(Duration.ZERO)))
        .isEqualTo(new Hold.Outcome.Abort("the successor gave up: SIGTERM", false));
    session.moveTo(SessionState.ABORTED);
    inbox.close();

    assertThat(commitAccepted).isCompletedWithValue(false);
    assertThat(session.moveFrom(SessionState.HELD, SessionState.DRAINING)).isFalse();
  }

  @Test
  void theOperatorsAbortAndTheHoldTimeoutAreToldToTheSuccessor() {
    assertThat(
            hold.decide(
                new SessionEvent.HoldDecision(false, "baton abort", new CompletableFuture<>())))
        .isEqualTo(new Hold.Outcome.Abort("baton abort", true));
    assertThat(hold.timedOut())
        .isEqualTo(new Hold.Outcome.Abort("no commit within the hold timeout, PT1H", true));
  }

  private static Envelope abortFrame(String reason) {
    return ProtocolVersion.envelope().setAbort(Abort.newBuilder().setReason(reason)).build();
  }
}
