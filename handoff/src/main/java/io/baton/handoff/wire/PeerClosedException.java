package io.baton.handoff.wire;

import io.baton.handoff.HandoffException;

/** The peer closed the control connection (EOF): it exited or died. */
public final class PeerClosedException extends HandoffException {
  private static final long serialVersionUID = 1L;

  public PeerClosedException(String message) {
    super(message);
  }
}
