package io.baton.handoff;

/**
 * Where the incoming process takes the live connections its predecessor sends. Called on the
 * handoff's receiving thread, one connection at a time, in the order they were sent.
 */
@FunctionalInterface
public interface ConnectionArrivals {

  /** {@code connection}'s fds are the callee's now: it registers them or closes them. */
  void arrived(LiveConnection connection);

  /**
   * As {@link #arrived(LiveConnection)}, with the {@code claim} to make just before the
   * connection's state first changes. This default claims it at once (the predecessor closes its
   * copy, as before revision 3); an application that serves connections overrides it and claims
   * later, so that an idle connection survives this process's death in the predecessor.
   */
  default void arrived(LiveConnection connection, OwnershipClaim claim) {
    claim.claim();
    arrived(connection);
  }
}
