package io.baton.handoff.outgoing;

import io.baton.handoff.PredecessorDrain;
import io.baton.proto.handoff.v1.HandedOn;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the outgoing side of a process needs from its incoming side (the same process's link to its
 * own predecessor) to hand over while that predecessor still drains. Implemented by {@link
 * io.baton.handoff.incoming.IncomingHandoff}.
 */
public interface PredecessorChain {

  /** A cold-started process: nothing older drains. */
  PredecessorChain NONE =
      new PredecessorChain() {
        @Override
        public List<PredecessorDrain> draining() {
          return List.of();
        }

        @Override
        public boolean understandsHandedOn() {
          return true;
        }

        @Override
        public void handOn(HandedOn.Why why, long activeGeneration, String detail) {}

        @Override
        public CompletableFuture<Boolean> gone() {
          return CompletableFuture.completedFuture(true);
        }
      };

  /**
   * The older generations still draining, newest first (this process's predecessor first); empty if
   * none.
   */
  List<PredecessorDrain> draining();

  /**
   * Whether the draining predecessor (if any) can be told {@code HandedOn} (its Welcome announced
   * revision 2 or later). A revision-1 predecessor would roll back when this process exits.
   */
  boolean understandsHandedOn();

  /**
   * Tells the draining predecessor, if any, that it will never be the active process again. At most
   * once; a no-op when none drains.
   */
  void handOn(HandedOn.Why why, long activeGeneration, String detail);

  /**
   * Completes with true when the predecessor has finished its drain (its final counters were
   * reported) or closed its connection; with false when it outlived its own drain deadline plus the
   * step timeout (its final counters are then not waited for). Already complete when none drains.
   */
  CompletableFuture<Boolean> gone();
}
