package io.baton.sidecar.http1;

import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ListenerResumer;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.migration.MovableKind;
import java.util.Map;

/**
 * Resumes, in the successor, an HTTP/1.1 client connection the predecessor moved at a request
 * boundary: it is served on its listener from the pipelined bytes that came with it.
 */
public final class MovedHttp1Connection extends ListenerResumer {

  /** An HTTP/1.1 client connection at a request boundary, served by {@code http} listeners. */
  public static final MovableKind KIND =
      new MovableKind(
          ConnectionKind.HTTP1,
          ListenerProtocol.HTTP.wireName(),
          "http1",
          "an HTTP/1.1 connection");

  /**
   * @param sockets and {@code contexts}: this process's data listeners, by name
   */
  public MovedHttp1Connection(
      Map<String, ServingSocket> sockets, Map<String, ListenerContext> contexts) {
    super(KIND, sockets, contexts);
  }

  /**
   * A moved HTTP/1.1 connection is plain text whatever this generation's listener is (TLS
   * connections never move): if the listener turned TLS in this generation's config, the connection
   * is still served as the plain text its client speaks.
   */
  @Override
  protected void resume(
      LiveConnection connection,
      OwnershipClaim claim,
      ServingSocket socket,
      ListenerContext context) {
    int fd = connection.fds()[0];
    if (context != null && context.listener().isTls()) {
      socket.adoptConnection(
          fd, connection.unconsumed(), new Http1ProxyInitializer(context), claim);
    } else {
      socket.adoptConnection(fd, connection.unconsumed(), claim);
    }
  }
}
