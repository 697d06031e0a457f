package io.baton.handoff.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.DrainProgress;
import io.baton.handoff.PredecessorDrain;
import io.baton.proto.handoff.v1.DrainFinished;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The predecessor's drain reports read into the library's types. */
@Timeout(10)
class DrainReportsTest {

  private static io.baton.proto.handoff.v1.PredecessorDrain older(long generation, int pid) {
    return io.baton.proto.handoff.v1.PredecessorDrain.newBuilder()
        .setGeneration(generation)
        .setPid(pid)
        .setConnectionsActive(3)
        .setRequestsActive(2)
        .setConnectionsMigrated(1)
        .build();
  }

  @Test
  void progressKeepsEveryCount() {
    assertThat(
            DrainReports.progress(
                io.baton.proto.handoff.v1.DrainProgress.newBuilder()
                    .setConnectionsActive(5)
                    .setRequestsActive(4)
                    .setConnectionsMigrated(9)
                    .build()))
        .isEqualTo(new DrainProgress(5, 4, 9));
  }

  @Test
  void theRelayedGenerationsKeepTheirOrderNewestFirst() {
    assertThat(DrainReports.olderGenerations(List.of(older(6, 600), older(5, 500))))
        .containsExactly(
            new PredecessorDrain(6, 600, new DrainProgress(3, 2, 1)),
            new PredecessorDrain(5, 500, new DrainProgress(3, 2, 1)));
    assertThat(DrainReports.olderGenerations(List.of())).isEmpty();
  }

  @Test
  void drainSecondsBecomeADuration() {
    assertThat(DrainReports.took(DrainFinished.newBuilder().setDrainSeconds(1.5).build()))
        .isEqualTo(Duration.ofMillis(1500));
  }
}
