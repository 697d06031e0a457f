package io.baton.handoff.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StateMachineTest {

  /** A door: the smallest machine with a terminal state and a move that is not allowed. */
  enum Door implements StateTable<Door> {
    OPEN,
    SHUT,
    WALLED_UP;

    @Override
    public Set<Door> next() {
      return switch (this) {
        case OPEN -> EnumSet.of(SHUT);
        case SHUT -> EnumSet.of(OPEN, WALLED_UP);
        case WALLED_UP -> EnumSet.noneOf(Door.class);
      };
    }

    @Override
    public boolean isTerminal() {
      return this == WALLED_UP;
    }
  }

  private final StateMachine<Door> door = new StateMachine<>("front door", Door.OPEN);

  @Test
  void anIllegalMoveThrowsNamingTheMachineTheMoveAndWhatWasExpected() {
    assertThatThrownBy(() -> door.moveTo(Door.WALLED_UP))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("front door: OPEN -> WALLED_UP (expected one of [SHUT])");
    assertThat(door.state()).isEqualTo(Door.OPEN);
  }

  @Test
  void tryMoveToSaysWhetherItMovedAndNeverThrows() {
    assertThat(door.tryMoveTo(Door.WALLED_UP)).isFalse();
    assertThat(door.tryMoveTo(Door.SHUT)).isTrue();
    assertThat(door.state()).isEqualTo(Door.SHUT);
  }

  @Test
  void moveFromMovesOnlyFromTheExpectedStateSoThatOneOfTwoRacingThreadsWins() {
    assertThat(door.moveFrom(Door.OPEN, Door.SHUT)).isTrue();
    assertThat(door.moveFrom(Door.OPEN, Door.SHUT)).isFalse();
    assertThat(door.state()).isEqualTo(Door.SHUT);
  }

  @Test
  void moveFromTheExpectedStateToAnIllegalTargetIsStillABug() {
    assertThatThrownBy(() -> door.moveFrom(Door.OPEN, Door.WALLED_UP))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void leaveForReturnsTheStateItLeftAndNothingOnceTheMachineHasEnded() {
    door.moveTo(Door.SHUT);
    assertThat(door.leaveFor(Door.WALLED_UP)).contains(Door.SHUT);
    assertThat(door.leaveFor(Door.OPEN)).isEmpty(); // lost to whoever ended it: no error
    assertThat(door.state()).isEqualTo(Door.WALLED_UP);
  }

  @Test
  void leaveForAnIllegalTargetBeforeTheEndIsABug() {
    assertThatThrownBy(() -> door.leaveFor(Door.WALLED_UP))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("OPEN -> WALLED_UP");
  }
}
