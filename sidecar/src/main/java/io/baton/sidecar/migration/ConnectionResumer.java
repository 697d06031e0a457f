package io.baton.sidecar.migration;

import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;

/**
 * How one protocol serves, in this process, a connection of its {@link MovableKind} that the
 * predecessor moved here. Implemented beside the protocol's handlers and registered with the {@link
 * ConnectionAdopter} where the server is assembled, so that this package imports no protocol.
 */
public interface ConnectionResumer {

  /** The kind of connection this resumes. */
  MovableKind kind();

  /**
   * Serves {@code connection}, whose listener exists here and speaks {@link
   * MovableKind#listenerProtocol()}. Owns its fds from now on: registers or closes them. Makes
   * {@code claim} just before the connection's state first changes here ({@link
   * OwnershipClaim#NONE} when the connection comes back to the process that sent it).
   */
  void resume(LiveConnection connection, OwnershipClaim claim);
}
