package io.baton.sidecar.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LifecycleTest {

  @Test
  void takeoverHandoffAndRollbackPublishPhasesInOrder() {
    Lifecycle lifecycle = new Lifecycle();
    List<Phase> seen = new ArrayList<>();
    lifecycle.observe(seen::add);
    lifecycle.moveTo(Phase.TAKING_OVER, "test");
    lifecycle.moveTo(Phase.SERVING, "test");
    lifecycle.moveTo(Phase.DRAINING, "test");
    lifecycle.moveTo(Phase.SERVING, "rollback");
    lifecycle.moveTo(Phase.DRAINING, "test");
    lifecycle.moveTo(Phase.STOPPED, "test");
    assertThat(seen)
        .containsExactly(
            Phase.TAKING_OVER,
            Phase.SERVING,
            Phase.DRAINING,
            Phase.SERVING,
            Phase.DRAINING,
            Phase.STOPPED);
  }

  @Test
  void illegalTransitionThrowsNamingBothPhases() {
    Lifecycle lifecycle = new Lifecycle();
    assertThatThrownBy(() -> lifecycle.moveTo(Phase.DRAINING, "test"))
        .hasMessageContaining("STARTING -> DRAINING");
    assertThat(lifecycle.tryMoveTo(Phase.DRAINING, "test")).isFalse();
    assertThat(lifecycle.phase()).isEqualTo(Phase.STARTING);
  }

  @Test
  void stoppedIsFinal() {
    Lifecycle lifecycle = new Lifecycle();
    lifecycle.moveTo(Phase.STOPPED, "test");
    for (Phase p : Phase.values()) {
      assertThat(lifecycle.tryMoveTo(p, "test")).isFalse();
    }
  }
}
