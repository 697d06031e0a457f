package io.baton.handoff.incoming;

import io.baton.handoff.HandoffException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.wire.ControlChannel;
import java.util.Optional;

/**
 * The check both incoming control sockets (reconfig.sock, listen.sock) make of their peer before
 * trusting a byte from it: the kernel says it runs as this process's uid (or root). A failed check
 * ends the takeover before anything is passed.
 */
final class PeerTrust {

  private PeerTrust() {}

  static void requireOwnUid(PeerCheck peers, PeerCredentials peer, ControlChannel channel)
      throws HandoffException {
    Optional<String> problem = peers.uidProblem("handoff: " + channel.path() + " peer", peer);
    if (problem.isPresent()) {
      throw new HandoffException(problem.get());
    }
  }
}
