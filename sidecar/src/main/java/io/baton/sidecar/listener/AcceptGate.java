package io.baton.sidecar.listener;

import io.netty.channel.Channel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether a listening socket takes connections from its kernel queue. Two things decide it: the
 * process's life (it accepts only while it serves; a handoff stops it) and the listener's
 * connection limit ({@code listeners[].maxConnections}). While either says no, the socket is not
 * read, so new clients wait in the kernel's accept queue instead of being refused.
 *
 * <p>Every method runs on the listening channel's event loop, which is also where connections are
 * accepted: the count seen at an accept is exact, so the limit is never overshot.
 */
final class AcceptGate {

  enum State {
    /** The process does not serve on this socket (before start-up ends, or handed over). */
    STOPPED,
    ACCEPTING,
    /** The process serves, but the listener holds its limit of connections. */
    AT_LIMIT
  }

  /** Told when the limit stops or resumes accepting (on the listening channel's event loop). */
  interface LimitObserver {
    void limitReached(int open);

    void limitLifted(int open);
  }

  private final Channel listening;
  private final AtomicInteger open;
  private final int limit;
  private final LimitObserver observer;

  /** Read from client event loops to decide whether a close must wake this gate. */
  private volatile State state = State.STOPPED;

  /**
   * @param open the listener's open client connections (accepted and moved in)
   * @param limit at most this many open connections; 0 for no limit
   */
  AcceptGate(Channel listening, AtomicInteger open, int limit, LimitObserver observer) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit " + limit + " (expected 0 for none, or >= 1)");
    }
    this.listening = listening;
    this.open = open;
    this.limit = limit;
    this.observer = observer;
  }

  State state() {
    return state;
  }

  void start() {
    enter(full() ? State.AT_LIMIT : State.ACCEPTING);
  }

  void stop() {
    enter(State.STOPPED);
  }

  /** A connection was just accepted and counted. */
  void accepted() {
    if (state == State.ACCEPTING && full()) {
      enter(State.AT_LIMIT);
      observer.limitReached(open.get());
    }
  }

  /** Whether a connection that closed leaving {@code nowOpen} must wake this gate. */
  boolean wantsWakeAfterClose(int nowOpen) {
    return state == State.AT_LIMIT && nowOpen < limit;
  }

  /** A connection closed: resumes accepting if that made room. */
  void closed() {
    if (state == State.AT_LIMIT && !full()) {
      enter(State.ACCEPTING);
      observer.limitLifted(open.get());
    }
  }

  private boolean full() {
    return limit > 0 && open.get() >= limit;
  }

  private void enter(State next) {
    state = next;
    listening.config().setAutoRead(next == State.ACCEPTING);
  }
}
