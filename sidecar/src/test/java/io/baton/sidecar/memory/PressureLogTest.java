package io.baton.sidecar.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PressureLogTest {

  private final AtomicLong now = new AtomicLong(1_000);
  private final PressureLog pressure = new PressureLog(now::get);

  @Test
  void belowEightyFivePercentIsFineAndAtItIsPressure() {
    assertThat(pressure.judge(MemoryArea.DIRECT, 84, 100)).isEqualTo(PressureLog.Verdict.FINE);
    assertThat(pressure.judge(MemoryArea.DIRECT, 85, 100))
        .isEqualTo(PressureLog.Verdict.COUNT_AND_LOG);
  }

  @Test
  void pressureIsLoggedOncePerMinutePerAreaAndCountedEveryTime() {
    assertThat(pressure.judge(MemoryArea.HEAP, 95, 100))
        .isEqualTo(PressureLog.Verdict.COUNT_AND_LOG);
    now.addAndGet(PressureLog.INTERVAL.toNanos() - 1);
    assertThat(pressure.judge(MemoryArea.HEAP, 95, 100)).isEqualTo(PressureLog.Verdict.COUNT);
    assertThat(pressure.judge(MemoryArea.CONTAINER, 99, 100))
        .as("another area has its own interval")
        .isEqualTo(PressureLog.Verdict.COUNT_AND_LOG);
    now.addAndGet(1);
    assertThat(pressure.judge(MemoryArea.HEAP, 95, 100))
        .isEqualTo(PressureLog.Verdict.COUNT_AND_LOG);
  }

  @Test
  void anAreaWithoutALimitIsNeverPressure() {
    assertThat(pressure.judge(MemoryArea.CONTAINER, Long.MAX_VALUE, 0))
        .isEqualTo(PressureLog.Verdict.FINE);
  }
}
