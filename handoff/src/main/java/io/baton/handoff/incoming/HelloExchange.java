package io.baton.handoff.incoming;

import io.baton.handoff.HandoffException;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.Welcome;
import java.util.Optional;

/**
 * The first turn on reconfig.sock: this process says Hello and the active process answers Welcome
 * (or a typed Refusal, which ends the takeover as {@link
 * io.baton.handoff.HandoffRefusedException}). The answer is trusted only as far as the kernel
 * confirms it: the peer's uid, and the pid Welcome claims.
 */
final class HelloExchange {

  /**
   * The predecessor as Welcome described it.
   *
   * @param revision its protocol revision ({@code protocol_revision}; 1 when unset)
   * @param generation its generation: this process's is one more
   */
  record Welcomed(
      ProcessIdentity predecessor, int revision, long generation, String buildVersion) {}

  private HelloExchange() {}

  static Welcomed exchange(ControlChannel reconfig, PeerCheck peers, HandoffSettings settings)
      throws HandoffException {
    PeerCredentials peer = reconfig.peer();
    PeerTrust.requireOwnUid(peers, peer, reconfig);
    reconfig.send(
        IncomingMessages.hello(peers.self(), settings.buildVersion(), settings.hold().requested()));
    // Not held yet: an Abort here is just an unexpected message.
    Envelope answer =
        AwaitedAnswer.await(
            reconfig, settings.stepTimeout(), Envelope.BodyCase.WELCOME, "Welcome", () -> false);
    Welcome welcome = answer.getWelcome();
    ProcessIdentity claimed =
        new ProcessIdentity(welcome.getPid(), welcome.getPidNamespace(), welcome.getInstanceId());
    Optional<String> pidProblem =
        peers.pidProblem(
            "handoff: the process serving " + reconfig.path() + " (Welcome.pid)", peer, claimed);
    if (pidProblem.isPresent()) {
      throw new HandoffException(pidProblem.get());
    }
    return new Welcomed(
        claimed,
        ProtocolVersion.revisionOf(welcome.getProtocolRevision()),
        welcome.getGeneration(),
        welcome.getBuildVersion());
  }
}
