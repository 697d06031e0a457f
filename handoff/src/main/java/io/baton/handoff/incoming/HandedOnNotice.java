package io.baton.handoff.incoming;

import io.baton.handoff.os.OsException;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.HandedOn;

/**
 * HandedOn, the word that tells a draining predecessor it will never be the active process again
 * (this process handed over in turn, or stops for good), so that it does not roll back when this
 * process exits. Only a predecessor of a revision that reads it is told; when to tell it is the
 * {@link IncomingState}'s to say.
 */
final class HandedOnNotice {

  private final IncomingReport report;

  /** The predecessor's Welcome.protocol_revision (1 when unset). */
  private volatile int predecessorRevision = 1;

  HandedOnNotice(IncomingReport report) {
    this.report = report;
  }

  void welcomedBy(int revision) {
    predecessorRevision = revision;
  }

  boolean understood() {
    return understoodAt(predecessorRevision);
  }

  static boolean understoodAt(int revision) {
    return revision >= ProtocolVersion.HANDED_ON_REVISION;
  }

  /**
   * Whether the predecessor can be told {@code why}. Never sent to a reader that would ignore it:
   * the outgoing side refuses to hand over then; a process that stops logs it here.
   */
  boolean canTell(HandedOn.Why why) {
    if (understood()) {
      return true;
    }
    report.cannotTellHandedOn(predecessorRevision, why, ProtocolVersion.HANDED_ON_REVISION);
    return false;
  }

  void tell(ControlChannel channel, HandedOn.Why why, long activeGeneration, String detail) {
    try {
      channel.send(IncomingMessages.handedOn(why, activeGeneration, detail));
      report.handedOn(why);
    } catch (OsException | ControlProtocolException e) {
      // It is dying or gone: its EOF handling applies (a gone one needs no word).
      report.handedOnNotDelivered(channel.path(), e.getMessage());
    }
  }
}
