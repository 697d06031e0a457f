package io.baton.handoff.outgoing;

import io.baton.handoff.os.OsException;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ReceivedFrame;
import java.time.Duration;

/**
 * Reads reconfig.sock for one session on a thread of its own and posts what it reads to the
 * session's inbox, so that the session's thread never blocks in a read: it waits on its inbox,
 * where a frame, the peer's EOF, a drain that ended and an operator's decision arrive alike.
 * Decides nothing: what a frame means depends on the session's state, which only its thread knows.
 * Ends at EOF or a read error (the session closing the socket is one).
 */
final class FrameReader {

  /**
   * Reads wake up this often and go back to waiting, so that no read is unbounded. A frame that is
   * cut by a wake-up is resumed where it stopped ({@link ControlChannel#receive}).
   */
  static final Duration WAKEUP = Duration.ofMinutes(1);

  private final ControlChannel channel;
  private final SessionInbox inbox;

  FrameReader(ControlChannel channel, SessionInbox inbox) {
    this.channel = channel;
    this.inbox = inbox;
  }

  void start(String sessionName) {
    HandoffThreads.start(sessionName + "-reader", this::run);
  }

  private void run() {
    while (true) {
      try {
        ReceivedFrame frame = channel.receive(WAKEUP);
        frame.closeFds(); // no frame on reconfig.sock carries fds; a peer that sends some does not
        // get to keep them open here
        inbox.post(new SessionEvent.FrameArrived(frame.envelope()));
      } catch (PeerClosedException e) {
        inbox.post(new SessionEvent.PeerClosed());
        return;
      } catch (OsException e) {
        if (e.isTimeout()) {
          continue;
        }
        inbox.post(new SessionEvent.ReadFailed(e));
        return;
      } catch (ControlProtocolException e) {
        // The stream may be out of step now; whether that ends the session is the session's call
        // (it closes the socket, which ends this loop).
        inbox.post(new SessionEvent.Garbage(e));
      }
    }
  }
}
