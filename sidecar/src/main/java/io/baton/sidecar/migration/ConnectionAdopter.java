package io.baton.sidecar.migration;

import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.process.FileDescriptors;
import io.baton.sidecar.config.ListenerProtocol;
import io.baton.sidecar.http1.Http1ProxyInitializer;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import io.baton.sidecar.tcp.MovedTcpPair;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the live connections the predecessor sends and serves each on the listener that accepted
 * it. A connection this process cannot serve (unknown listener, a kind the listener does not
 * speak) is closed with a log line: it was never going to be served here.
 */
public final class ConnectionAdopter implements ConnectionArrivals {

  private static final Logger log = LoggerFactory.getLogger(ConnectionAdopter.class);

  private final Map<String, ServingSocket> listeners;
  private final Map<String, ListenerContext> contexts;
  private final BatonMetrics metrics;

  public ConnectionAdopter(List<ServingSocket> dataListeners, Map<String, ListenerContext> contexts, BatonMetrics metrics) {
    this.listeners = dataListeners.stream().collect(Collectors.toMap(ServingSocket::name, Function.identity()));
    this.contexts = Map.copyOf(contexts);
    this.metrics = metrics;
  }

  @Override
  public void arrived(LiveConnection connection) {
    ServingSocket socket = listeners.get(connection.listener());
    String problem = problemWith(connection, socket);
    if (problem != null) {
      log.warn("moved connection refused: {}: {}; closing it", connection, problem);
      FileDescriptors.closeAllQuietly(connection.fds());
      return;
    }
    int[] fds = connection.fds();
    switch (connection.kind()) {
      case HTTP1 -> adoptHttp1(socket, fds[0], connection.unconsumed());
      case TCP_PAIR -> MovedTcpPair.resume(socket, contexts.get(socket.name()), fds[0], fds[1], connection.upstreamEndpoint());
    }
    metrics.listener(socket.name()).connectionMigratedIn(connection.kind() == ConnectionKind.HTTP1 ? "http1" : "tcp");
  }

  /**
   * A moved HTTP/1.1 connection is plain text whatever this generation's listener is (TLS
   * connections never move): if the listener turned TLS in this generation's config, the
   * connection is still served as the plain text its client speaks.
   */
  private void adoptHttp1(ServingSocket socket, int fd, byte[] unconsumed) {
    ListenerContext context = contexts.get(socket.name());
    if (context != null && context.listener().isTls()) {
      socket.adoptConnection(fd, unconsumed, new Http1ProxyInitializer(context));
    } else {
      socket.adoptConnection(fd, unconsumed);
    }
  }

  private static String problemWith(LiveConnection connection, ServingSocket socket) {
    if (socket == null) {
      return "listener " + connection.listener() + " does not exist here (expected one of this process's data listeners)";
    }
    return switch (connection.kind()) {
      case HTTP1 -> ListenerProtocol.HTTP.wireName().equals(socket.protocol())
          ? null
          : "listener " + socket.name() + " speaks " + socket.protocol() + " (expected http for an HTTP/1.1 connection)";
      case TCP_PAIR -> ListenerProtocol.TCP.wireName().equals(socket.protocol())
          ? null
          : "listener " + socket.name() + " speaks " + socket.protocol() + " (expected tcp for a TCP connection pair)";
    };
  }
}
