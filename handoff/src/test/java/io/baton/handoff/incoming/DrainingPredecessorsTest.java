package io.baton.handoff.incoming;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.DrainProgress;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.proto.handoff.v1.Draining;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The chain of generations that still drain, as the application and the outgoing side see it. */
@Timeout(10)
class DrainingPredecessorsTest {

  private static final Duration STEP = Duration.ofSeconds(5);

  private final List<List<PredecessorDrain>> reported = new CopyOnWriteArrayList<>();
  private final AtomicBoolean drains = new AtomicBoolean(true);
  private final HandoffEvents events =
      new HandoffEvents() {
        @Override
        public void predecessorsDraining(List<PredecessorDrain> chain) {
          reported.add(chain);
        }
      };
  private final DrainingPredecessors predecessors =
      new DrainingPredecessors(events, new IncomingReport(events), drains::get, STEP);

  @Test
  void aPredecessorWithoutProgressYetHeadsTheChainWithNothingOpen() {
    PredecessorDrain relayed = new PredecessorDrain(5, 500, new DrainProgress(1, 0, 0));
    assertThat(DrainingPredecessors.chain(6, 600, null, List.of(relayed)))
        .containsExactly(new PredecessorDrain(6, 600, new DrainProgress(0, 0)), relayed);
  }

  @Test
  void theChainIsThePredecessorAtOneGenerationLessThenWhatItRelays() {
    predecessors.welcomedBy(new ProcessIdentity(600, 0, "abc"), 7);
    predecessors.progressed(
        io.baton.proto.handoff.v1.DrainProgress.newBuilder()
            .setConnectionsActive(2)
            .addPredecessors(
                io.baton.proto.handoff.v1.PredecessorDrain.newBuilder()
                    .setGeneration(5)
                    .setPid(500))
            .build());
    List<PredecessorDrain> expected =
        List.of(
            new PredecessorDrain(6, 600, new DrainProgress(2, 0, 0)),
            new PredecessorDrain(5, 500, new DrainProgress(0, 0, 0)));
    assertThat(predecessors.chain()).isEqualTo(expected);
    assertThat(reported).containsExactly(expected);
    assertThat(predecessors.progress()).contains(new DrainProgress(2, 0, 0));
  }

  @Test
  void nothingDrainsOnceTheStateSaysThePredecessorIsGone() throws Exception {
    predecessors.welcomedBy(new ProcessIdentity(600, 0, "abc"), 7);
    predecessors.stoppedAccepting(Draining.getDefaultInstance());
    drains.set(false);
    predecessors.forget(true);
    assertThat(predecessors.chain()).isEmpty();
    assertThat(predecessors.progress()).isEmpty();
    assertThat(reported).last().isEqualTo(List.of());
    assertThat(predecessors.gone().get(1, TimeUnit.SECONDS))
        .as("none drains: gone at once")
        .isTrue();
  }

  @Test
  void theWaitForAGonePredecessorEndsWithTrueOnceItIsMarkedGone() throws Exception {
    var gone = predecessors.gone();
    assertThat(gone).isNotDone();
    predecessors.markGone();
    assertThat(gone.get(1, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aPredecessorIsWaitedForUntilItsDeadlinePlusTheStepTimeout() {
    assertThat(DrainingPredecessors.goneWait(10_000, 4_000, STEP))
        .isEqualTo(Duration.ofSeconds(11));
    assertThat(DrainingPredecessors.goneWait(10_000, 12_000, STEP))
        .as("past its deadline: only the step timeout for its DrainFinished and exit")
        .isEqualTo(STEP);
    assertThat(DrainingPredecessors.goneWait(0, 12_000, STEP))
        .as("deadline unknown")
        .isEqualTo(DrainingPredecessors.UNKNOWN_DEADLINE_WAIT);
  }
}
