package io.baton.sidecar.migration;

import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.process.FileDescriptors;
import io.baton.sidecar.metrics.BatonMetrics;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the live connections the predecessor sends and hands each to the {@link ConnectionResumer}
 * of its kind, which serves it on the listener that accepted it. A connection this process cannot
 * serve (unknown listener, a kind the listener does not speak) is closed with a log line: it was
 * never going to be served here.
 */
public final class ConnectionAdopter implements ConnectionArrivals {

  private static final Logger log = LoggerFactory.getLogger(ConnectionAdopter.class);

  private final Map<String, String> listenerProtocols;
  private final Map<ConnectionKind, ConnectionResumer> resumers =
      new EnumMap<>(ConnectionKind.class);
  private final BatonMetrics metrics;

  /**
   * @param listenerProtocols the protocol (config name) of each data listener, by listener name
   * @param resumers one per kind of connection this process takes
   */
  public ConnectionAdopter(
      Map<String, String> listenerProtocols,
      List<ConnectionResumer> resumers,
      BatonMetrics metrics) {
    this.listenerProtocols = Map.copyOf(listenerProtocols);
    for (ConnectionResumer resumer : resumers) {
      if (this.resumers.put(resumer.kind().kind(), resumer) != null) {
        throw new IllegalArgumentException(
            "resumers: two for " + resumer.kind().kind() + " (expected one per connection kind)");
      }
    }
    this.metrics = metrics;
  }

  @Override
  public void arrived(LiveConnection connection) {
    ConnectionResumer resumer = resumers.get(connection.kind());
    String problem = problemWith(connection, resumer);
    if (problem != null) {
      log.warn("moved connection refused: {}: {}; closing it", connection, problem);
      FileDescriptors.closeAllQuietly(connection.fds());
      return;
    }
    resumer.resume(connection);
    metrics.listener(connection.listener()).connectionMigratedIn(resumer.kind().metricLabel());
  }

  private String problemWith(LiveConnection connection, ConnectionResumer resumer) {
    String protocol = listenerProtocols.get(connection.listener());
    if (protocol == null) {
      return "listener "
          + connection.listener()
          + " does not exist here (expected one of this process's data listeners)";
    }
    if (resumer == null) {
      return "this process resumes no "
          + connection.kind()
          + " connection (expected one of "
          + resumers.keySet()
          + ")";
    }
    MovableKind kind = resumer.kind();
    return kind.listenerProtocol().equals(protocol)
        ? null
        : "listener "
            + connection.listener()
            + " speaks "
            + protocol
            + " (expected "
            + kind.listenerProtocol()
            + " for "
            + kind.description()
            + ")";
  }
}
