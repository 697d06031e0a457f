package io.baton.handoff.incoming;

import static io.baton.handoff.incoming.IncomingState.ABORTED;
import static io.baton.handoff.incoming.IncomingState.AWAITING_DRAINING;
import static io.baton.handoff.incoming.IncomingState.CLOSED;
import static io.baton.handoff.incoming.IncomingState.COLD_START;
import static io.baton.handoff.incoming.IncomingState.FOLLOWING;
import static io.baton.handoff.incoming.IncomingState.GIVING_UP;
import static io.baton.handoff.incoming.IncomingState.HANDED_ON;
import static io.baton.handoff.incoming.IncomingState.HELD;
import static io.baton.handoff.incoming.IncomingState.PREDECESSOR_GONE;
import static io.baton.handoff.incoming.IncomingState.STARTING;
import static io.baton.handoff.incoming.IncomingState.TAKING_OVER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.handoff.state.StateMachine;
import io.baton.handoff.state.TransitionTables;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The incoming side's transition table, move by move, and the races its moves meet. */
@Timeout(10)
class IncomingStateTest {

  /**
   * The protocol's moves on the incoming side (handoff.proto's sequence), written out once more.
   */
  static final Map<IncomingState, Set<IncomingState>> LEGAL =
      Map.of(
          STARTING, EnumSet.of(COLD_START, TAKING_OVER, CLOSED),
          COLD_START, EnumSet.of(CLOSED),
          TAKING_OVER, EnumSet.of(AWAITING_DRAINING, HELD, CLOSED),
          AWAITING_DRAINING, EnumSet.of(FOLLOWING, PREDECESSOR_GONE, CLOSED),
          HELD, EnumSet.of(GIVING_UP, FOLLOWING, ABORTED, PREDECESSOR_GONE, CLOSED),
          GIVING_UP, EnumSet.of(ABORTED, FOLLOWING, PREDECESSOR_GONE, CLOSED),
          FOLLOWING, EnumSet.of(HANDED_ON, PREDECESSOR_GONE, CLOSED),
          HANDED_ON, EnumSet.of(PREDECESSOR_GONE, CLOSED),
          PREDECESSOR_GONE, EnumSet.of(CLOSED),
          ABORTED, EnumSet.of(CLOSED));

  static Stream<Arguments> everyPair() {
    return TransitionTables.everyPair(IncomingState.class);
  }

  private static StateMachine<IncomingState> incomingIn(IncomingState state) {
    return TransitionTables.machineIn("incoming handoff in /run/baton", STARTING, state, LEGAL);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("everyPair")
  void aMoveIsAllowedExactlyWhenTheProtocolHasIt(IncomingState from, IncomingState to) {
    StateMachine<IncomingState> incoming = incomingIn(from);
    if (LEGAL.getOrDefault(from, Set.of()).contains(to)) {
      incoming.moveTo(to);
      assertThat(incoming.state()).isEqualTo(to);
    } else {
      assertThatThrownBy(() -> incoming.moveTo(to))
          .as("%s -> %s is not a move of the protocol", from, to)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(from + " -> " + to);
      assertThat(incoming.state()).isEqualTo(from);
    }
  }

  @ParameterizedTest
  @EnumSource(IncomingState.class)
  void closedIsTheOneTerminalStateAndEveryOtherCanClose(IncomingState state) {
    incomingIn(state); // reachable
    assertThat(state.isTerminal())
        .isEqualTo(state == CLOSED)
        .isEqualTo(IncomingState.TERMINAL.contains(state));
    assertThat(state.next().isEmpty()).isEqualTo(state.isTerminal());
    if (!state.isTerminal()) {
      assertThat(state.next())
          .as("%s -> CLOSED: this process may stop anywhere", state)
          .contains(CLOSED);
    }
  }

  @Test
  void thePredecessorCountsAsDrainingFromReadyUntilItIsGone() {
    assertThat(EnumSet.allOf(IncomingState.class).stream().filter(IncomingState::predecessorDrains))
        .containsExactlyInAnyOrder(AWAITING_DRAINING, HELD, GIVING_UP, FOLLOWING, HANDED_ON);
    assertThat(EnumSet.allOf(IncomingState.class).stream().filter(IncomingState::isHeld))
        .containsExactlyInAnyOrder(HELD, GIVING_UP);
  }

  /** SIGTERM while held sends Abort; the predecessor's commit may already be on the wire. */
  @Test
  void anAbortCrossingTheCommitEndsInFollowingThePredecessorsDrain() {
    StateMachine<IncomingState> incoming = incomingIn(HELD);
    assertThat(incoming.moveFrom(HELD, GIVING_UP)).isTrue();
    assertThat(incoming.leaveFor(FOLLOWING))
        .as("Draining read after our Abort")
        .contains(GIVING_UP);
    assertThat(incoming.state().predecessorDrains()).isTrue();
  }

  @Test
  void anAbortAnsweredByThePredecessorsEofEndsTheTakeover() {
    StateMachine<IncomingState> incoming = incomingIn(GIVING_UP);
    incoming.moveTo(ABORTED);
    assertThat(incoming.state().predecessorDrains()).as("it never stopped serving").isFalse();
  }

  @Test
  void givingUpIsPossibleOnlyWhileHeldAndOnlyOnce() {
    StateMachine<IncomingState> incoming = incomingIn(AWAITING_DRAINING);
    assertThat(incoming.moveFrom(HELD, GIVING_UP)).as("not held").isFalse();
    StateMachine<IncomingState> held = incomingIn(HELD);
    assertThat(held.moveFrom(HELD, GIVING_UP)).isTrue();
    assertThat(held.moveFrom(HELD, GIVING_UP)).isFalse();
  }

  @Test
  void handedOnIsSaidOnceAndOnlyWhileFollowing() {
    assertThat(incomingIn(HELD).moveFrom(FOLLOWING, HANDED_ON))
        .as("held: nothing to hand on yet")
        .isFalse();
    StateMachine<IncomingState> following = incomingIn(FOLLOWING);
    assertThat(following.moveFrom(FOLLOWING, HANDED_ON)).isTrue();
    assertThat(following.moveFrom(FOLLOWING, HANDED_ON)).isFalse();
  }

  /**
   * The follow thread sees the predecessor's EOF as this process closes: whoever leaves the
   * draining state says "nobody drains" once; the other finds the machine moved on.
   */
  @RepeatedTest(50)
  void theEndOfTheDrainIsReportedOnceWhenTheFollowerAndCloseRace() throws Exception {
    StateMachine<IncomingState> incoming = incomingIn(FOLLOWING);
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<Optional<IncomingState>> follower =
          threads.submit(
              () -> {
                start.await();
                return incoming.leaveFor(PREDECESSOR_GONE);
              });
      Future<Optional<IncomingState>> closer =
          threads.submit(
              () -> {
                start.await();
                return incoming.leaveFor(CLOSED);
              });
      List<Optional<IncomingState>> left = List.of(follower.get(), closer.get());
      long reportsOfTheEnd =
          left.stream().flatMap(Optional::stream).filter(IncomingState::predecessorDrains).count();
      assertThat(reportsOfTheEnd).as("left FOLLOWING: %s", left).isEqualTo(1);
      assertThat(incoming.state()).isEqualTo(CLOSED);
    } finally {
      threads.shutdownNow();
      assertThat(threads.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void aMoveAfterCloseLosesQuietlyButAnIllegalOneBeforeItThrows() {
    StateMachine<IncomingState> closed = incomingIn(CLOSED);
    assertThat(closed.leaveFor(FOLLOWING)).isEmpty();
    StateMachine<IncomingState> coldStart = incomingIn(COLD_START);
    assertThatThrownBy(() -> coldStart.leaveFor(FOLLOWING))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "incoming handoff in /run/baton: COLD_START -> FOLLOWING (expected one of [CLOSED])");
  }
}
