package io.baton.sidecar.listener;

import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;
import io.baton.sidecar.migration.ConnectionResumer;
import io.baton.sidecar.migration.MovableKind;
import java.util.Map;

/**
 * The part every protocol's {@link ConnectionResumer} shares: the kind it declares, and the
 * listener a moved connection belongs to, found by name among this process's data listeners. A
 * protocol subclasses it with how it serves the connection on that listener, and is registered with
 * the {@code migration.ConnectionAdopter}, which has checked that the listener exists here and
 * speaks the kind's protocol.
 */
public abstract class ListenerResumer implements ConnectionResumer {

  private final MovableKind kind;
  private final Map<String, ServingSocket> sockets;
  private final Map<String, ListenerContext> contexts;

  /**
   * @param kind the kind of connection this resumes
   * @param sockets and {@code contexts}: this process's data listeners, by name
   */
  protected ListenerResumer(
      MovableKind kind, Map<String, ServingSocket> sockets, Map<String, ListenerContext> contexts) {
    this.kind = kind;
    this.sockets = Map.copyOf(sockets);
    this.contexts = Map.copyOf(contexts);
  }

  @Override
  public final MovableKind kind() {
    return kind;
  }

  @Override
  public final void resume(LiveConnection connection, OwnershipClaim claim) {
    ServingSocket socket = sockets.get(connection.listener());
    resume(connection, claim, socket, contexts.get(socket.name()));
  }

  /**
   * Serves {@code connection} on {@code socket}, the listener that accepted it in the predecessor.
   * Owns its fds from now on: registers or closes them.
   *
   * @param claim made just before the connection's state first changes ({@link
   *     ServingSocket#confirmOwnership})
   * @param context the listener's context, null if it has none
   */
  protected abstract void resume(
      LiveConnection connection,
      OwnershipClaim claim,
      ServingSocket socket,
      ListenerContext context);
}
