package io.baton.handoff.process;

import io.baton.handoff.PredecessorDrain;
import io.baton.handoff.incoming.IncomingHandoff;
import io.baton.handoff.outgoing.PredecessorChain;
import io.baton.proto.handoff.v1.HandedOn;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * This process's incoming side as its outgoing side sees it: the older generations that still
 * drain. Here, in the facade that owns both sides, so that neither side's package depends on the
 * other's.
 */
final class IncomingPredecessorChain implements PredecessorChain {

  private final IncomingHandoff incoming;

  IncomingPredecessorChain(IncomingHandoff incoming) {
    this.incoming = incoming;
  }

  @Override
  public List<PredecessorDrain> draining() {
    return incoming.draining();
  }

  @Override
  public boolean understandsHandedOn() {
    return incoming.understandsHandedOn();
  }

  @Override
  public void handOn(HandedOn.Why why, long activeGeneration, String detail) {
    incoming.handOn(why, activeGeneration, detail);
  }

  @Override
  public CompletableFuture<Boolean> gone() {
    return incoming.gone();
  }
}
