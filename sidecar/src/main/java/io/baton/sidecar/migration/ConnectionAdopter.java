package io.baton.sidecar.migration;

import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;
import io.baton.handoff.process.FileDescriptors;
import io.baton.sidecar.metrics.BatonMetrics;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the live connections the predecessor sends and hands each to the {@link ConnectionResumer}
 * of its kind, which serves it on the listener that accepted it. A connection this process cannot
 * serve (unknown listener, a kind the listener does not speak) is closed with a log line: it was
 * never going to be served here.
 *
 * <p>The same path serves, in the outgoing process, a connection it had sent to a successor that
 * died before it touched it ({@link #resumeAfterSuccessorLoss}): the connection goes on from where
 * this process stopped, exactly as the successor would have taken it.
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

  /** A connection from a predecessor that keeps no copy (nobody to tell when it is owned). */
  @Override
  public void arrived(LiveConnection connection) {
    arrived(connection, OwnershipClaim.NONE);
  }

  @Override
  public void arrived(LiveConnection connection, OwnershipClaim claim) {
    ConnectionResumer resumer = resumers.get(connection.kind());
    String problem = problemWith(connection, resumer);
    if (problem != null) {
      log.warn("moved connection refused: {}: {}; closing it", connection, problem);
      // Not claimed: the predecessor keeps its copy, and serves it if this process dies.
      FileDescriptors.closeAllQuietly(connection.fds());
      return;
    }
    resumer.resume(connection, claim);
    metrics.listener(connection.listener()).connectionMigratedIn(resumer.kind().metricLabel());
  }

  /**
   * In the outgoing process: {@code connection} went to a successor that died before it touched it;
   * serve it here again, its fds this process's copies.
   *
   * @return false if it cannot be served here (the caller closes its fds)
   */
  public boolean resumeAfterSuccessorLoss(LiveConnection connection) {
    ConnectionResumer resumer = resumers.get(connection.kind());
    String problem = problemWith(connection, resumer);
    if (problem != null) {
      log.warn("connection back from the lost successor refused: {}: {}", connection, problem);
      return false;
    }
    resumer.resume(connection, OwnershipClaim.NONE);
    metrics
        .listener(connection.listener())
        .connectionResumedAfterSuccessorLoss(resumer.kind().metricLabel());
    return true;
  }

  /** In the outgoing process: the successor confirmed it owns {@code connection} (for metrics). */
  public void successorOwns(LiveConnection connection) {
    ConnectionResumer resumer = resumers.get(connection.kind());
    String label =
        resumer == null
            ? connection.kind().name().toLowerCase(Locale.ROOT)
            : resumer.kind().metricLabel();
    metrics.listener(connection.listener()).connectionOwnedBySuccessor(label);
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
