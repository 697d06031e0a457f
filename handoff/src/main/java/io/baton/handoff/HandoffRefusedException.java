package io.baton.handoff;

import io.baton.proto.handoff.v1.RefusalReason;

/** The active process refused to hand over; nothing changed on its side. */
public final class HandoffRefusedException extends HandoffException {
  private static final long serialVersionUID = 1L;

  private final RefusalReason reason;

  public HandoffRefusedException(RefusalReason reason, String detail) {
    super("handoff refused by the active process: " + reason + ": " + detail);
    this.reason = reason;
  }

  public RefusalReason reason() {
    return reason;
  }
}
