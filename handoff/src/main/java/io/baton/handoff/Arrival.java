package io.baton.handoff;

import com.google.protobuf.Any;
import java.util.List;

/** How a process came to be active: with nobody to take over from, or by taking over. */
public sealed interface Arrival {

  /** No active process owns the run directory (none, or a stale socket): bind everything fresh. */
  record ColdStart() implements Arrival {}

  /**
   * The active process handed over its listeners. The caller owns every fd in {@code listeners} and
   * must register or close each one.
   *
   * @param generation this process's generation: the predecessor's plus one
   * @param counters the predecessor's counters when it passed the listeners: this process's
   *     continue from them
   * @param carriedState what the predecessor learned at run time ({@link
   *     HandoffSource#carriedState()}), in its order
   */
  record Takeover(
      long generation,
      long predecessorPid,
      String predecessorVersion,
      List<InheritedListener> listeners,
      List<CarriedCounter> counters,
      List<Any> carriedState)
      implements Arrival {
    public Takeover {
      listeners = List.copyOf(listeners);
      counters = List.copyOf(counters);
      carriedState = List.copyOf(carriedState);
    }
  }
}
