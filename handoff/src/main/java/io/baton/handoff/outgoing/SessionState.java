package io.baton.handoff.outgoing;

import io.baton.handoff.state.StateTable;
import java.util.EnumSet;
import java.util.Set;

/**
 * The life of one connection to {@code reconfig.sock} on the outgoing side. Each state names the
 * step of the protocol it waits in (the sequence is in {@code handoff.proto}'s header). A session
 * ends in exactly one of the {@link #TERMINAL} states, each reported once as a {@link
 * io.baton.handoff.HandoffResult}. Transitions other than those {@link #next()} lists are bugs and
 * throw.
 */
public enum SessionState implements StateTable<SessionState> {
  /** Connected; waiting (step timeout) for the peer's Hello. Nothing has changed yet. */
  AWAITING_HELLO,
  /** Welcome sent; waiting (step timeout) for the successor to say it bound listen.sock. */
  AWAITING_LISTEN_SOCKET,
  /** Connecting to listen.sock, sending the listeners, waiting for ListenersReceived. */
  SENDING_LISTENERS,
  /**
   * The successor holds copies of our listener fds; waiting (ready timeout) for Ready or Abort. We
   * still accept.
   */
  AWAITING_READY,
  /**
   * Ready received from a successor that asked to be held: both accept; waiting (hold timeout) for
   * a commit (then DRAINING) or an abort. EOF now means the successor gave up: we serve on.
   */
  HELD,
  /**
   * Ready received (and committed, if held): we stopped accepting and drain; EOF on reconfig.sock
   * now means roll back.
   */
  DRAINING,
  /**
   * Draining, and the successor said HandedOn (it handed over in turn, or stops for good): we will
   * never accept again; EOF now means only that it is gone, and we drain on to our own deadline. No
   * more live connections go to it.
   */
  HANDED_ON,
  /** Terminal: the drain finished and DrainFinished was sent. */
  SUCCEEDED,
  /** Terminal: refused after Hello (or bad first frame); nothing changed. */
  REFUSED,
  /** Terminal: the peer died, hung, aborted or misbehaved before Ready; we serve on untouched. */
  FAILED,
  /** Terminal: the successor died while we drained; we accept again and serve reconfig.sock. */
  ROLLED_BACK,
  /** Terminal: held, then aborted; the successor drains what it accepted; we never stopped. */
  ABORTED;

  /**
   * The states a session ends in; each is reported once as a {@link
   * io.baton.handoff.HandoffResult}.
   */
  public static final Set<SessionState> TERMINAL =
      EnumSet.of(SUCCEEDED, REFUSED, FAILED, ROLLED_BACK, ABORTED);

  /**
   * Where a session may go from here. FAILED is reachable only before Ready: from then on the
   * successor accepts, and the session ends by its drain (SUCCEEDED), a rollback or an abort.
   */
  @Override
  public Set<SessionState> next() {
    return switch (this) {
      case AWAITING_HELLO -> EnumSet.of(AWAITING_LISTEN_SOCKET, REFUSED, FAILED);
      case AWAITING_LISTEN_SOCKET -> EnumSet.of(SENDING_LISTENERS, FAILED);
      case SENDING_LISTENERS -> EnumSet.of(AWAITING_READY, FAILED);
      case AWAITING_READY -> EnumSet.of(HELD, DRAINING, FAILED);
      case HELD -> EnumSet.of(DRAINING, ABORTED);
      case DRAINING -> EnumSet.of(HANDED_ON, SUCCEEDED, ROLLED_BACK);
      case HANDED_ON -> EnumSet.of(SUCCEEDED);
      case SUCCEEDED, REFUSED, FAILED, ROLLED_BACK, ABORTED -> EnumSet.noneOf(SessionState.class);
    };
  }

  @Override
  public boolean isTerminal() {
    return TERMINAL.contains(this);
  }

  /**
   * Before the successor said Ready: a failure leaves this process serving as if nothing happened.
   */
  public boolean isBeforeReady() {
    return this == AWAITING_HELLO
        || this == AWAITING_LISTEN_SOCKET
        || this == SENDING_LISTENERS
        || this == AWAITING_READY;
  }

  /**
   * This process stopped accepting and drains: the successor's end no longer leaves it untouched.
   */
  public boolean isDraining() {
    return this == DRAINING || this == HANDED_ON;
  }

  /**
   * Whether a session in this state still holds the baton, so that another successor is refused
   * HANDOFF_IN_PROGRESS. A session that ended without handing over counts as gone: it reports its
   * end before its thread lets go of the slot, and a successor that retries on that report must not
   * be refused (a race that was once fixed by hand). One that SUCCEEDED handed the baton on: its
   * process no longer serves reconfig.sock.
   */
  public boolean holdsTheBaton() {
    return !isTerminal() || this == SUCCEEDED;
  }
}
