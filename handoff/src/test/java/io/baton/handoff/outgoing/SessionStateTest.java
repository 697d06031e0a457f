package io.baton.handoff.outgoing;

import static io.baton.handoff.outgoing.SessionState.ABORTED;
import static io.baton.handoff.outgoing.SessionState.AWAITING_HELLO;
import static io.baton.handoff.outgoing.SessionState.AWAITING_LISTEN_SOCKET;
import static io.baton.handoff.outgoing.SessionState.AWAITING_READY;
import static io.baton.handoff.outgoing.SessionState.DRAINING;
import static io.baton.handoff.outgoing.SessionState.FAILED;
import static io.baton.handoff.outgoing.SessionState.HANDED_ON;
import static io.baton.handoff.outgoing.SessionState.HELD;
import static io.baton.handoff.outgoing.SessionState.REFUSED;
import static io.baton.handoff.outgoing.SessionState.ROLLED_BACK;
import static io.baton.handoff.outgoing.SessionState.SENDING_LISTENERS;
import static io.baton.handoff.outgoing.SessionState.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.handoff.state.StateMachine;
import io.baton.handoff.state.TransitionTables;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The outgoing session's transition table, move by move, against the protocol written out by hand.
 */
class SessionStateTest {

  /**
   * The protocol's moves on the outgoing side (handoff.proto's sequence), written out once more.
   */
  static final Map<SessionState, Set<SessionState>> LEGAL =
      Map.of(
          AWAITING_HELLO, EnumSet.of(AWAITING_LISTEN_SOCKET, REFUSED, FAILED),
          AWAITING_LISTEN_SOCKET, EnumSet.of(SENDING_LISTENERS, FAILED),
          SENDING_LISTENERS, EnumSet.of(AWAITING_READY, FAILED),
          AWAITING_READY, EnumSet.of(HELD, DRAINING, FAILED),
          HELD, EnumSet.of(DRAINING, ABORTED),
          DRAINING, EnumSet.of(HANDED_ON, SUCCEEDED, ROLLED_BACK),
          HANDED_ON, EnumSet.of(SUCCEEDED));

  static Stream<Arguments> everyPair() {
    return TransitionTables.everyPair(SessionState.class);
  }

  static StateMachine<SessionState> sessionIn(SessionState state) {
    return TransitionTables.machineIn(
        "handoff session 1 on reconfig.sock", AWAITING_HELLO, state, LEGAL);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("everyPair")
  void aMoveIsAllowedExactlyWhenTheProtocolHasIt(SessionState from, SessionState to) {
    StateMachine<SessionState> session = sessionIn(from);
    if (LEGAL.getOrDefault(from, Set.of()).contains(to)) {
      session.moveTo(to);
      assertThat(session.state()).isEqualTo(to);
    } else {
      assertThatThrownBy(() -> session.moveTo(to))
          .as("%s -> %s is not a move of the protocol", from, to)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(from + " -> " + to);
      assertThat(session.state()).isEqualTo(from);
    }
  }

  @ParameterizedTest
  @EnumSource(SessionState.class)
  void theTerminalStatesAreTheExplicitSetAndExactlyThoseWithNoWayOut(SessionState state) {
    assertThat(state.isTerminal())
        .isEqualTo(SessionState.TERMINAL.contains(state))
        .isEqualTo(state.next().isEmpty());
    assertThat(SessionState.TERMINAL)
        .containsExactlyInAnyOrder(SUCCEEDED, REFUSED, FAILED, ROLLED_BACK, ABORTED);
  }

  @ParameterizedTest
  @EnumSource(SessionState.class)
  void everyStateIsReachedAndEverySessionCanEnd(SessionState state) {
    StateMachine<SessionState> session = sessionIn(state);
    boolean canEnd =
        Arrays.stream(SessionState.values())
            .filter(SessionState::isTerminal)
            .anyMatch(end -> end == state || reaches(state, end));
    assertThat(canEnd).as("%s leads to a terminal state", session).isTrue();
  }

  /** Once Ready is received the successor accepts: a failure no longer leaves us untouched. */
  @Test
  void failingIsPossibleOnlyBeforeReady() {
    for (SessionState state : SessionState.values()) {
      assertThat(state.next().contains(FAILED))
          .as("%s -> FAILED", state)
          .isEqualTo(state.isBeforeReady());
    }
  }

  /**
   * The race once fixed by hand: a session that failed reports it before its thread releases the
   * slot, and a successor retrying on that report must be admitted, not refused
   * HANDOFF_IN_PROGRESS.
   */
  @Test
  void aSuccessorRetryingRightAfterAFailureIsAdmittedBeforeTheFailedSessionLetsGo() {
    BatonSlot<StateMachine<SessionState>> slot = new BatonSlot<>(StateMachine::state);
    StateMachine<SessionState> first = sessionIn(AWAITING_HELLO);
    assertThat(slot.claim(first)).isTrue();
    first.moveTo(AWAITING_LISTEN_SOCKET);
    StateMachine<SessionState> meanwhile = sessionIn(AWAITING_HELLO);
    assertThat(slot.claim(meanwhile))
        .as("a second successor while the first is under way")
        .isFalse();

    first.moveTo(FAILED); // reported; its thread has not reached release() yet
    StateMachine<SessionState> retry = sessionIn(AWAITING_HELLO);
    assertThat(slot.claim(retry)).as("the retry right after the failure").isTrue();
    slot.release(first); // late: must not take the baton from the retry
    assertThat(slot.holder()).containsSame(retry);
  }

  @Test
  void aSessionThatHandedOverKeepsTheBatonEvenAfterItEnded() {
    BatonSlot<StateMachine<SessionState>> slot = new BatonSlot<>(StateMachine::state);
    StateMachine<SessionState> done = sessionIn(DRAINING);
    assertThat(slot.claim(done)).isTrue();
    done.moveTo(SUCCEEDED);
    assertThat(slot.claim(sessionIn(AWAITING_HELLO)))
        .as("reconfig.sock is the successor's now")
        .isFalse();
  }

  private static boolean reaches(SessionState from, SessionState to) {
    try {
      TransitionTables.pathTo(from, to, LEGAL);
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }
}
