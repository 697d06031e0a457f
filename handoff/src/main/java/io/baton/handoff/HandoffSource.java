package io.baton.handoff;

import com.google.protobuf.Any;
import java.util.List;
import java.util.Set;

/**
 * What the active process offers a successor, and how it reacts to the handoff. Implemented by the
 * application; called from the handoff thread.
 */
public interface HandoffSource {

  long generation();

  /** The listeners to pass, at the moment the successor asks for them. */
  List<PassableListener> listeners();

  /**
   * This process's counters, to continue in the successor: asked when the listeners are passed and
   * again when the drain has finished.
   */
  default List<CarriedCounter> counters() {
    return List.of();
  }

  /**
   * What this process learned at run time and its successor should start from, asked when the
   * listeners are passed. Each is the application's own typed message: the library carries it
   * without looking inside. Together with the listeners it must fit a 1 MiB frame.
   */
  default List<Any> carriedState() {
    return List.of();
  }

  /**
   * The successor accepts on every listener. Stop accepting (keep the fds open: a rollback may need
   * them), turn not-ready and begin the drain.
   *
   * @param adoptedListeners names of the passed listeners the successor accepts on; a listener it
   *     did not adopt (its address changed, or it is gone from the new config) is no longer
   *     reachable through the successor
   * @param successor where live connections may be sent ({@link ConnectionSink#NONE} if the
   *     successor takes none); the drain completes only when every connection is closed or sent
   */
  Drain beginDrain(Set<String> adoptedListeners, ConnectionSink successor);

  /**
   * The successor died before the drain finished: accept again and serve on as the active process.
   * Connections already told to close may still close.
   */
  void rollBack(String reason);

  /**
   * The successor confirmed it owns {@code connection}, sent earlier: this process closed its copy
   * of the fds (they are no longer valid here). For metrics.
   */
  default void successorOwns(LiveConnection connection) {}

  /**
   * The successor died without confirming it owns {@code connection}, sent earlier and never
   * touched there: serve it here, as a successor adopts one (the unconsumed bytes first). The fds
   * are this process's copies.
   *
   * @return true if the connection is served (the callee owns the fds); false to have them closed
   */
  default boolean resumeUnowned(LiveConnection connection) {
    return false;
  }
}
