package io.baton.handoff;

/**
 * A held takeover ended without a commit: the operator aborted it, this process was told to stop,
 * or the hold timed out. The predecessor serves on; this process must drain what it accepted and
 * exit.
 */
public final class HandoffAbortedException extends HandoffException {
  private static final long serialVersionUID = 1L;

  public HandoffAbortedException(String reason) {
    super("held handoff aborted: " + reason);
  }
}
