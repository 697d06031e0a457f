package io.baton.handoff.incoming;

import io.baton.handoff.state.StateTable;
import java.util.EnumSet;
import java.util.Set;

/**
 * The life of the incoming side of one process: from asking {@code reconfig.sock} for the baton to
 * its predecessor's end. Each state names the step of the protocol it is in (the sequence is in
 * {@code handoff.proto}'s header). Transitions other than those {@link #next()} lists are bugs and
 * throw; {@link #CLOSED} alone is terminal.
 */
public enum IncomingState implements StateTable<IncomingState> {
  /** Nothing asked yet: {@code arrive} has not connected to reconfig.sock. */
  STARTING,
  /**
   * Nobody to take over from (no reconfig.sock, or a stale one): nothing drains behind this
   * process.
   */
  COLD_START,
  /**
   * Connected to the active process: Hello, Welcome, the listeners on listen.sock; then the
   * application builds everything while nothing accepts on the received fds yet.
   */
  TAKING_OVER,
  /**
   * Ready sent: this process accepts; waiting (step timeout) for Draining. The predecessor counts
   * as draining.
   */
  AWAITING_DRAINING,
  /**
   * Ready sent by a process that asked to be held: both accept until the predecessor's operator
   * commits (Draining) or aborts (Abort), at most the hold timeout.
   */
  HELD,
  /**
   * Held, and this process gave the takeover up (SIGTERM): Abort sent, waiting for the predecessor
   * to let go.
   */
  GIVING_UP,
  /** The predecessor stopped accepting and drains; this process serves and follows its progress. */
  FOLLOWING,
  /**
   * Following, and this process told its predecessor HandedOn (it handed over in turn, or stops for
   * good): the predecessor never accepts again. Said once.
   */
  HANDED_ON,
  /** The predecessor finished its drain or exited: nothing older drains behind this process. */
  PREDECESSOR_GONE,
  /**
   * The held takeover ended without a commit: the predecessor serves on (it never stopped), this
   * process drains what it accepted and exits.
   */
  ABORTED,
  /** Terminal: this process closed its side (it aborted, failed, or is stopping). */
  CLOSED;

  /** The one terminal state. */
  public static final Set<IncomingState> TERMINAL = EnumSet.of(CLOSED);

  @Override
  public Set<IncomingState> next() {
    return switch (this) {
      case STARTING -> EnumSet.of(COLD_START, TAKING_OVER, CLOSED);
      case COLD_START -> EnumSet.of(CLOSED);
      case TAKING_OVER -> EnumSet.of(AWAITING_DRAINING, HELD, CLOSED);
      // No Draining in time but the connection lives: follow anyway. EOF instead: it died; serve
      // anyway.
      case AWAITING_DRAINING -> EnumSet.of(FOLLOWING, PREDECESSOR_GONE, CLOSED);
      case HELD -> EnumSet.of(GIVING_UP, FOLLOWING, ABORTED, PREDECESSOR_GONE, CLOSED);
      // The predecessor's commit can cross our Abort on the wire: then it stopped accepting, and we
      // serve.
      case GIVING_UP -> EnumSet.of(ABORTED, FOLLOWING, PREDECESSOR_GONE, CLOSED);
      case FOLLOWING -> EnumSet.of(HANDED_ON, PREDECESSOR_GONE, CLOSED);
      case HANDED_ON -> EnumSet.of(PREDECESSOR_GONE, CLOSED);
      case PREDECESSOR_GONE, ABORTED -> EnumSet.of(CLOSED);
      case CLOSED -> EnumSet.noneOf(IncomingState.class);
    };
  }

  @Override
  public boolean isTerminal() {
    return TERMINAL.contains(this);
  }

  /**
   * Whether the predecessor counts as draining: from Ready on (it may stop accepting any moment)
   * until it is gone. The outgoing side of this process asks this before it hands over in turn.
   */
  public boolean predecessorDrains() {
    return this == AWAITING_DRAINING
        || this == HELD
        || this == GIVING_UP
        || this == FOLLOWING
        || this == HANDED_ON;
  }

  /**
   * Whether an Abort from the predecessor now ends the takeover (rather than being a protocol
   * error).
   */
  public boolean isHeld() {
    return this == HELD || this == GIVING_UP;
  }
}
