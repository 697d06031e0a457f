package io.baton.handoff.incoming;

import io.baton.handoff.HandoffAbortedException;
import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffRefusedException;
import io.baton.handoff.os.OsException;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The one answer the incoming side waits for from the active process on reconfig.sock (Welcome,
 * then Draining), and its verdict on it: a typed refusal, an abort of a held takeover, a foreign
 * protocol version and an unexpected message each end the wait with their own exception.
 */
final class AwaitedAnswer {

  private AwaitedAnswer() {}

  /**
   * Waits at most {@code timeout} for {@code expected} on {@code channel}; {@code held} is asked
   * once the frame is in, since a held takeover may be given up while the wait runs.
   */
  static Envelope await(
      ControlChannel channel,
      Duration timeout,
      Envelope.BodyCase expected,
      String name,
      BooleanSupplier held)
      throws HandoffException {
    ReceivedFrame frame;
    try {
      frame = channel.receive(timeout);
    } catch (OsException e) {
      if (e.isTimeout()) {
        throw new HandoffException(
            "handoff: no "
                + name
                + " from the active process on "
                + channel.path()
                + " within "
                + timeout,
            e);
      }
      throw e;
    } catch (PeerClosedException e) {
      throw new PeerClosedException(
          "handoff: the active process closed "
              + channel.path()
              + " while we waited for "
              + name
              + " (it exited or died)");
    }
    frame.closeFds(); // no answer on reconfig.sock carries fds; a peer's stray ones are not kept
    return judge(frame.envelope(), expected, held.getAsBoolean(), channel.path());
  }

  /**
   * Returns {@code envelope} if it is the {@code expected} answer; a refusal and (only while {@code
   * held}) an abort take precedence over the version check, so that an older or newer peer's "no"
   * still reads as a "no".
   */
  static Envelope judge(Envelope envelope, Envelope.BodyCase expected, boolean held, Path path)
      throws HandoffException {
    if (envelope.getBodyCase() == Envelope.BodyCase.REFUSAL) {
      throw new HandoffRefusedException(
          envelope.getRefusal().getReason(), envelope.getRefusal().getDetail());
    }
    if (envelope.getBodyCase() == Envelope.BodyCase.ABORT && held) {
      throw new HandoffAbortedException("by the predecessor: " + envelope.getAbort().getReason());
    }
    if (!ProtocolVersion.compatible(envelope.getProtocolVersion())) {
      throw new ControlProtocolException(
          RefusalReason.PROTOCOL_VERSION_MISMATCH,
          "handoff: protocol_version: "
              + envelope.getProtocolVersion()
              + " from "
              + path
              + " (expected: "
              + ProtocolVersion.CURRENT
              + ")");
    }
    if (envelope.getBodyCase() != expected) {
      throw new ControlProtocolException(
          RefusalReason.UNEXPECTED_MESSAGE,
          "handoff: message "
              + envelope.getBodyCase()
              + " on "
              + path
              + " (expected: "
              + expected
              + ")");
    }
    return envelope;
  }
}
