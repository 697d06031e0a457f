package io.baton.handoff.wire;

import io.baton.handoff.HandoffException;
import io.baton.proto.handoff.v1.RefusalReason;

/**
 * The peer sent something this protocol does not allow: an oversized or truncated frame, bytes that
 * do not parse as an Envelope, or a message that is not expected now. {@link #reason()} is what a
 * refusal would say.
 */
public final class ControlProtocolException extends HandoffException {
  private static final long serialVersionUID = 1L;

  private final RefusalReason reason;

  public ControlProtocolException(RefusalReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public ControlProtocolException(RefusalReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public RefusalReason reason() {
    return reason;
  }
}
