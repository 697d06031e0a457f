package io.baton.handoff.outgoing;

import io.baton.proto.handoff.v1.RefusalReason;
import java.util.Objects;

/**
 * Why a peer is turned away before anything changed: the typed reason the Refusal frame carries and
 * the detail, written {@code name: value (expected: ...)}.
 */
record Refusal(RefusalReason reason, String detail) {

  Refusal {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
  }

  @Override
  public String toString() {
    return reason + ": " + detail;
  }
}
