package io.baton.handoff.incoming;

import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffException;
import io.baton.handoff.IncomingStepObserver;
import io.baton.handoff.migration.ConnectionReceiver;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.wire.ProtocolVersion;
import java.nio.file.Path;

/**
 * conn.sock, this process's for one takeover: bound with listen.sock (its path travels in
 * ListenSocketReady), it receives the predecessor's live connections from just before Ready until
 * the predecessor is gone. Until receiving starts, this owns the socket; from then on the {@link
 * ConnectionReceiver} does, and removes it when it is done.
 */
final class ConnectionIntake implements AutoCloseable {

  private final RunDirectory runDir;
  private UnixServer server;
  private ConnectionReceiver receiver;

  ConnectionIntake(RunDirectory runDir) {
    this.runDir = runDir;
  }

  /** Binds conn.sock; returns its path, for ListenSocketReady. */
  Path bind() throws HandoffException {
    Path connPath = runDir.connSocket();
    runDir.remove(connPath);
    server = UnixServer.bind(connPath);
    return connPath;
  }

  /**
   * Starts taking connections from {@code predecessor}: before Ready, since the predecessor may
   * start sending as soon as it reads it.
   */
  void startReceiving(
      PeerCheck peers,
      ProcessIdentity predecessor,
      int predecessorRevision,
      long generation,
      ConnectionArrivals arrivals,
      HandoffEvents events,
      IncomingStepObserver steps) {
    receiver =
        new ConnectionReceiver(
            server,
            peers,
            predecessor,
            predecessorRevision >= ProtocolVersion.CONNECTION_OWNED_REVISION,
            generation,
            arrivals,
            events,
            steps);
    receiver.start();
  }

  /**
   * The predecessor finished or is gone: the receiver takes what is still queued and stops, or, if
   * receiving never started, conn.sock goes.
   */
  void predecessorGone() {
    ConnectionReceiver started = receiver;
    if (started != null) {
      started.predecessorGone();
    } else {
      closeServer();
    }
  }

  /**
   * Removes conn.sock unless the receiver owns it (it ends with the predecessor, or {@link
   * #close}).
   */
  void closeUnlessReceiving() {
    if (receiver == null) {
      closeServer();
    }
  }

  private void closeServer() {
    UnixServer bound = server;
    if (bound != null) {
      bound.deleteFileIfStillOurs();
      bound.close();
    }
  }

  @Override
  public void close() {
    if (receiver != null) {
      receiver.close();
    }
  }
}
