package io.baton.handoff.outgoing;

/**
 * The life of one connection to {@code reconfig.sock} on the outgoing side, in order. A session
 * ends in exactly one of the terminal states, each reported once as a {@link
 * io.baton.handoff.HandoffResult}.
 */
public enum SessionState {
  /** Connected; waiting (step timeout) for the peer's Hello. Nothing has changed yet. */
  AWAITING_HELLO,
  /** Welcome sent; waiting (step timeout) for the successor to say it bound listen.sock. */
  AWAITING_LISTEN_SOCKET,
  /** Connecting to listen.sock, sending the listeners, waiting for ListenersReceived. */
  SENDING_LISTENERS,
  /** The successor holds copies of our listener fds; waiting (ready timeout) for Ready or Abort. We still accept. */
  AWAITING_READY,
  /**
   * Ready received from a successor that asked to be held: both accept; waiting (hold timeout) for
   * a commit (then DRAINING) or an abort. EOF now means the successor gave up: we serve on.
   */
  HELD,
  /** Ready received (and committed, if held): we stopped accepting and drain; EOF on reconfig.sock now means roll back. */
  DRAINING,
  /**
   * Draining, and the successor said HandedOn (it handed over in turn, or stops for good): we will
   * never accept again; EOF now means only that it is gone, and we drain on to our own deadline.
   * No more live connections go to it.
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

  public boolean isTerminal() {
    return ordinal() >= SUCCEEDED.ordinal();
  }
}
