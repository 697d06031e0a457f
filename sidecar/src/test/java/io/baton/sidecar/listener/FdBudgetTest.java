package io.baton.sidecar.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FdBudgetTest {

  @Test
  void theReserveIsASixteenthOfTheLimitWithinItsBounds() {
    assertThat(new FdBudget(100, () -> 0).reserve()).isEqualTo(FdBudget.LEAST_RESERVED);
    assertThat(new FdBudget(1024, () -> 0).reserve()).isEqualTo(64);
    assertThat(new FdBudget(1 << 20, () -> 0).reserve()).isEqualTo(FdBudget.MOST_RESERVED);
  }

  @Test
  void anAcceptedDescriptorNumberIsALowerBoundOfWhatIsInUse() {
    FdBudget budget = new FdBudget(100, () -> 0);

    // Descriptors 0..82 in use: 83 + 16 reserved < 100.
    assertThat(budget.shortAfterAccepting(82)).isFalse();
    // 0..83: 84 + 16 = 100, nothing left beyond the reserve.
    assertThat(budget.shortAfterAccepting(83)).isTrue();
  }

  @Test
  void roomToAcceptCountsWhatIsOpenNow() {
    AtomicLong open = new AtomicLong(83);
    FdBudget budget = new FdBudget(100, open::get);

    assertThat(budget.roomToAccept()).isTrue();
    open.set(84);
    assertThat(budget.roomToAccept()).isFalse();
    assertThat(budget.describe())
        .isEqualTo("84 of 100 file descriptors in use (ulimit -n), 16 kept in reserve");
  }

  @Test
  void anUnknownLimitNeverHoldsBackAnAccept() {
    FdBudget budget = FdBudget.failedAcceptsOnly();

    assertThat(budget.shortAfterAccepting(1_000_000)).isFalse();
    assertThat(budget.roomToAccept()).isTrue();
  }

  @Test
  void thisProcessHasAKnownLimit() {
    FdBudget budget = FdBudget.ofThisProcess();

    assertThat(budget.limit()).isPositive();
    assertThat(budget.roomToAccept()).isTrue();
  }
}
