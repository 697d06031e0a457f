package io.baton.sidecar.listener;

import io.netty.channel.Channel;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether a listening socket takes connections from its kernel queue. Three things decide it: the
 * process's life (it accepts only while it serves; a handoff stops it), the listener's connection
 * limit ({@code listeners[].maxConnections}) and the process's file descriptors. While any says no,
 * the socket is not read, so new clients wait in the kernel's accept queue instead of being
 * refused, and a failing accept is not retried in a busy loop.
 *
 * <p>Every method runs on the listening channel's event loop, which is also where connections are
 * accepted: the count seen at an accept is exact, so the limit is never overshot.
 */
final class AcceptGate {

  /** How often a gate short of descriptors looks whether some were freed. */
  static final Duration FD_RECHECK = Duration.ofMillis(250);

  enum State {
    /** The process does not serve on this socket (before start-up ends, or handed over). */
    STOPPED,
    ACCEPTING,
    /** The process serves, but the listener holds its limit of connections. */
    AT_LIMIT,
    /** The process serves, but has (nearly) no file descriptor left for a new connection. */
    SHORT_OF_FDS;

    private static final Map<State, Set<State>> NEXT =
        Map.of(
            STOPPED, EnumSet.of(STOPPED, ACCEPTING, AT_LIMIT, SHORT_OF_FDS),
            ACCEPTING, EnumSet.of(STOPPED, AT_LIMIT, SHORT_OF_FDS),
            AT_LIMIT, EnumSet.of(STOPPED, ACCEPTING),
            SHORT_OF_FDS, EnumSet.of(STOPPED, ACCEPTING, AT_LIMIT));

    State next(State to) {
      if (!NEXT.get(this).contains(to)) {
        throw new IllegalStateException("accept gate: " + this + " -> " + to + " (not allowed)");
      }
      return to;
    }
  }

  /** Told when accepting pauses or resumes for a reason other than the process's life. */
  interface Observer {
    Observer NONE = new Observer() {};

    default void limitReached(int open) {}

    default void limitLifted(int open) {}

    /** {@code cause}: the failed accept, or null when the reserve was reached. */
    default void shortOfFds(int open, String budget, Throwable cause) {}

    default void fdsFreed(int open, String budget) {}
  }

  private final Channel listening;
  private final AtomicInteger open;
  private final int limit;
  private final FdBudget fds;
  private final Observer observer;

  /** Read from client event loops to decide whether a close must wake this gate. */
  private volatile State state = State.STOPPED;

  /**
   * @param open the listener's open client connections (accepted and moved in)
   * @param limit at most this many open connections; 0 for no limit
   */
  AcceptGate(Channel listening, AtomicInteger open, int limit, FdBudget fds, Observer observer) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit " + limit + " (expected 0 for none, or >= 1)");
    }
    this.listening = listening;
    this.open = open;
    this.limit = limit;
    this.fds = fds;
    this.observer = observer;
  }

  State state() {
    return state;
  }

  void start() {
    if (state != State.STOPPED) {
      return;
    }
    if (!fds.roomToAccept()) {
      shortOfFds(null);
    } else {
      enter(full() ? State.AT_LIMIT : State.ACCEPTING);
    }
  }

  void stop() {
    enter(State.STOPPED);
  }

  /** A connection was just accepted (as descriptor {@code fd}) and counted. */
  void accepted(int fd) {
    if (state != State.ACCEPTING) {
      return;
    }
    if (fds.shortAfterAccepting(fd)) {
      shortOfFds(null);
    } else if (full()) {
      enter(State.AT_LIMIT);
      observer.limitReached(open.get());
    }
  }

  /** An accept failed (EMFILE, ENFILE, ENOBUFS...): pause instead of retrying at once. */
  void acceptFailed(Throwable cause) {
    if (state == State.ACCEPTING) {
      shortOfFds(cause);
    }
  }

  /** Whether a connection that closed leaving {@code nowOpen} must wake this gate. */
  boolean wantsWakeAfterClose(int nowOpen) {
    return state == State.AT_LIMIT && nowOpen < limit;
  }

  /** A connection closed: resumes accepting if that made room under the limit. */
  void closed() {
    if (state == State.AT_LIMIT && !full()) {
      enter(State.ACCEPTING);
      observer.limitLifted(open.get());
    }
  }

  private void shortOfFds(Throwable cause) {
    enter(State.SHORT_OF_FDS);
    observer.shortOfFds(open.get(), fds.describe(), cause);
    listening.eventLoop().schedule(this::recheckFds, FD_RECHECK.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void recheckFds() {
    if (state != State.SHORT_OF_FDS) {
      return; // stopped meanwhile: the next start looks afresh
    }
    if (!fds.roomToAccept()) {
      listening
          .eventLoop()
          .schedule(this::recheckFds, FD_RECHECK.toMillis(), TimeUnit.MILLISECONDS);
      return;
    }
    enter(full() ? State.AT_LIMIT : State.ACCEPTING);
    observer.fdsFreed(open.get(), fds.describe());
  }

  private boolean full() {
    return limit > 0 && open.get() >= limit;
  }

  private void enter(State next) {
    state = state.next(next);
    listening.config().setAutoRead(next == State.ACCEPTING);
  }
}
