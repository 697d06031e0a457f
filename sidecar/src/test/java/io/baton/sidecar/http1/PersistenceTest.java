package io.baton.sidecar.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class PersistenceTest {

  private static final BooleanSupplier NOTHING_PIPELINED = () -> false;
  private static final BooleanSupplier NEXT_REQUEST_READ = () -> true;

  @Test
  void aCompleteKeepAliveRequestKeepsTheConnectionWhateverThePersistenceButDrainingHere() {
    assertThat(Persistence.KEEP_ALIVE.closesAfterResponse(true, true, NOTHING_PIPELINED)).isFalse();
    assertThat(Persistence.MOVE_AT_BOUNDARY.closesAfterResponse(true, true, NOTHING_PIPELINED))
        .isFalse();
    assertThat(Persistence.CLOSE_AFTER_RESPONSE.closesAfterResponse(true, true, NOTHING_PIPELINED))
        .isTrue();
  }

  @Test
  void aClientThatAskedForCloseGetsIt() {
    for (Persistence persistence : Persistence.values()) {
      assertThat(persistence.closesAfterResponse(false, true, NEXT_REQUEST_READ))
          .as("%s", persistence)
          .isTrue();
    }
  }

  @Test
  void aResponseBeforeTheWholeRequestClosesTheConnection() {
    for (Persistence persistence : Persistence.values()) {
      assertThat(persistence.closesAfterResponse(true, false, NEXT_REQUEST_READ))
          .as("%s", persistence)
          .isTrue();
    }
  }

  @Test
  void drainingHereAnswersPipelinedRequestsAlreadyReadBeforeClosing() {
    assertThat(Persistence.CLOSE_AFTER_RESPONSE.closesAfterResponse(true, true, NEXT_REQUEST_READ))
        .isFalse();
  }

  @Test
  void pipelinedBytesAreLookedAtOnlyWhileDrainingHere() {
    BooleanSupplier mustNotBeAsked =
        () -> {
          throw new AssertionError("pipelined bytes asked outside CLOSE_AFTER_RESPONSE");
        };
    assertThat(Persistence.KEEP_ALIVE.closesAfterResponse(true, true, mustNotBeAsked)).isFalse();
    assertThat(Persistence.MOVE_AT_BOUNDARY.closesAfterResponse(true, true, mustNotBeAsked))
        .isFalse();
  }

  @Test
  void aConnectionTheSuccessorDidNotTakeDrainsHereUnlessTheDrainWasRolledBack() {
    assertThat(Persistence.MOVE_AT_BOUNDARY.withoutMove())
        .isEqualTo(Persistence.CLOSE_AFTER_RESPONSE);
    assertThat(Persistence.CLOSE_AFTER_RESPONSE.withoutMove())
        .isEqualTo(Persistence.CLOSE_AFTER_RESPONSE);
    assertThat(Persistence.KEEP_ALIVE.withoutMove()).isEqualTo(Persistence.KEEP_ALIVE);
  }
}
