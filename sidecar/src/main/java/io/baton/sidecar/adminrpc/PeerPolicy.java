package io.baton.sidecar.adminrpc;

/**
 * Who may call the admin API: a process of this process's uid, or root (as on reconfig.sock).
 *
 * @param ownUid the uid this process runs as
 * @param rootAllowed false only in a test that must see its own root caller refused
 */
public record PeerPolicy(long ownUid, boolean rootAllowed) {

  /** Why a caller of {@code uid} is refused, or null if it may call. */
  public String refusal(long uid) {
    if (uid == ownUid || (rootAllowed && uid == 0)) {
      return null;
    }
    return "peer uid "
        + uid
        + " (expected: "
        + ownUid
        + (rootAllowed && ownUid != 0 ? " or 0" : "")
        + ")";
  }
}
