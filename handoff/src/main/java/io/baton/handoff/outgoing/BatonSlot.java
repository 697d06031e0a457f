package io.baton.handoff.outgoing;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one session that holds the baton, if any: a successor admitted while another is under way
 * is refused HANDOFF_IN_PROGRESS. A session that ended without handing over counts as gone even
 * before it lets go of the slot ({@link SessionState#holdsTheBaton()}).
 */
final class BatonSlot {

  private final AtomicReference<Session> holder = new AtomicReference<>();

  /** Makes {@code session} the holder unless another one holds the baton; returns whether it did. */
  boolean claim(Session session) {
    while (true) {
      Session other = holder.get();
      if (other != null && other.state().holdsTheBaton()) {
        return false;
      }
      if (holder.compareAndSet(other, session)) {
        return true;
      }
    }
  }

  /** {@code session} ended without handing over: it holds nothing any more. */
  void release(Session session) {
    holder.compareAndSet(session, null);
  }

  Optional<Session> holder() {
    return Optional.ofNullable(holder.get());
  }
}
