package io.baton.handoff.outgoing;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The one session that holds the baton, if any: a successor admitted while another is under way is
 * refused HANDOFF_IN_PROGRESS. A session that ended without handing over counts as gone even before
 * it lets go of the slot ({@link SessionState#holdsTheBaton()}).
 */
final class BatonSlot<S> {

  private final AtomicReference<S> holder = new AtomicReference<>();
  private final Function<S, SessionState> stateOf;

  /**
   * @param stateOf a holder's current state (a session's; a bare state machine's in tests)
   */
  BatonSlot(Function<S, SessionState> stateOf) {
    this.stateOf = stateOf;
  }

  /**
   * Makes {@code session} the holder unless another one holds the baton; returns whether it did.
   */
  boolean claim(S session) {
    while (true) {
      S other = holder.get();
      if (other != null && stateOf.apply(other).holdsTheBaton()) {
        return false;
      }
      if (holder.compareAndSet(other, session)) {
        return true;
      }
    }
  }

  /** {@code session} ended without handing over: it holds nothing any more. */
  void release(S session) {
    holder.compareAndSet(session, null);
  }

  Optional<S> holder() {
    return Optional.ofNullable(holder.get());
  }
}
