package io.baton.handoff.peer;

import io.baton.handoff.os.PeerCredentials;
import java.util.Optional;

/**
 * Judges a peer of a control socket: the kernel's word about it (SO_PEERCRED) against this process
 * and against what the peer said of itself.
 *
 * <p>The uid must be this process's own or root: the 0700 run directory and this check are the
 * guard. The pid is compared only where it means something: the kernel shows the peer's pid (it
 * lives in this pid namespace or one below it) and the peer says it lives in the very same pid
 * namespace. A peer that does not say which namespace it lives in (a binary older than this field)
 * is compared wherever its pid is visible, as that binary itself does.
 */
public final class PeerCheck {

  private final long ownUid;
  private final ProcessIdentity self;

  public PeerCheck(long ownUid, ProcessIdentity self) {
    this.ownUid = ownUid;
    this.self = self;
  }

  public long ownUid() {
    return ownUid;
  }

  public ProcessIdentity self() {
    return self;
  }

  /** Empty when {@code peer}'s uid may talk to this process; else why not, naming {@code what}. */
  public Optional<String> uidProblem(String what, PeerCredentials peer) {
    if (peer.uid() == ownUid || peer.uid() == 0) {
      return Optional.empty();
    }
    return Optional.of(what + ": uid " + peer.uid() + " (expected: " + ownUid + " or 0)");
  }

  /**
   * Empty when the kernel's pid for the peer is consistent with the process it {@code claims} to
   * be; else why not, naming {@code what}.
   */
  public Optional<String> pidProblem(String what, PeerCredentials peer, ProcessIdentity claimed) {
    if (!peer.pidVisible()) {
      return Optional.empty();
    }
    boolean comparable =
        claimed.pidNamespace() == 0 || claimed.pidNamespace() == self.pidNamespace();
    if (!comparable || peer.pid() == claimed.pid()) {
      return Optional.empty();
    }
    return Optional.of(
        what
            + ": pid "
            + peer.pid()
            + " (expected: "
            + claimed.pid()
            + ", the pid "
            + claimed
            + " announced in its own pid namespace, the same as ours)");
  }

  /** {@link #uidProblem}, else {@link #pidProblem}. */
  public Optional<String> problem(String what, PeerCredentials peer, ProcessIdentity claimed) {
    return uidProblem(what, peer).or(() -> pidProblem(what, peer, claimed));
  }
}
