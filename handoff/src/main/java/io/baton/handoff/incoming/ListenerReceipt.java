package io.baton.handoff.incoming;

import io.baton.handoff.HandoffException;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ReceivedFrame;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * listen.sock, this process's for one takeover: bound before ListenSocketReady, it takes one
 * connection from the predecessor (no other process), one Listeners frame with the listener fds,
 * answers ListenersReceived, and is removed again, whether that worked or not.
 */
final class ListenerReceipt implements AutoCloseable {

  private final RunDirectory runDir;
  private final PeerCheck peers;
  private final Duration stepTimeout;
  private Path listenPath;
  private UnixServer server;

  ListenerReceipt(RunDirectory runDir, PeerCheck peers, Duration stepTimeout) {
    this.runDir = runDir;
    this.peers = peers;
    this.stepTimeout = stepTimeout;
  }

  /** Binds listen.sock; returns its path, for ListenSocketReady. */
  Path bind() throws HandoffException {
    listenPath = runDir.listenSocket();
    // Stale from a process that died mid-handoff; only one session at a time gets here.
    runDir.remove(listenPath);
    server = UnixServer.bind(listenPath);
    return listenPath;
  }

  /** Takes the listeners from {@code predecessor} (within the step timeout), then closes. */
  PassedListeners receiveFrom(ProcessIdentity predecessor) throws HandoffException {
    try (ControlChannel listen = new ControlChannel(server.accept(stepTimeout))) {
      PeerCredentials listenPeer = listen.peer();
      PeerTrust.requireOwnUid(peers, listenPeer, listen);
      Optional<String> listenPidProblem =
          peers.pidProblem(
              "handoff: the process that connected to " + listenPath, listenPeer, predecessor);
      if (listenPidProblem.isPresent()) {
        throw new HandoffException(listenPidProblem.get() + " (expected: the predecessor)");
      }
      ReceivedFrame frame = listen.receive(stepTimeout);
      PassedListeners passed = PassedListeners.from(frame, listenPath);
      listen.send(IncomingMessages.listenersReceived(passed.listeners().size()));
      return passed;
    } catch (OsException e) {
      if (e.isTimeout()) {
        throw new HandoffException(
            "handoff: the predecessor did not pass its listeners on "
                + listenPath
                + " within "
                + stepTimeout,
            e);
      }
      throw e;
    } finally {
      close();
    }
  }

  /** Removes listen.sock if it is still the one bound here; again is a no-op. */
  @Override
  public void close() {
    UnixServer bound = server;
    if (bound != null) {
      bound.deleteFileIfStillOurs();
      bound.close();
      server = null;
    }
  }
}
