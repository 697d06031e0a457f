package io.baton.handoff.migration;

import io.baton.handoff.ConnectionArrivals;
import io.baton.handoff.ConnectionKind;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.IncomingStep;
import io.baton.handoff.IncomingStepObserver;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.handoff.wire.ReceivedFrame;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.MovedConnection;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incoming side of {@code conn.sock}: accepts the predecessor (and nobody else), then hands
 * each connection it sends to the application until MigrationFinished or EOF. A connection the
 * kernel delivered is never dropped silently: a MovedConnection that does not fit its kind is
 * closed with a log line and the stream goes on; bytes that are not a frame end the stream (the
 * predecessor's next send fails, so it keeps the rest).
 */
public final class ConnectionReceiver {

  private static final Logger log = LoggerFactory.getLogger(ConnectionReceiver.class);

  /** Reads wake up this often to notice {@link #predecessorGone}; they are not a deadline. */
  static final Duration WAKEUP = Duration.ofSeconds(1);

  /** How soon the wait for the predecessor's connection notices that the predecessor is gone. */
  static final Duration ACCEPT_POLL = Duration.ofMillis(100);

  /** Where the receiver is. */
  private enum State {
    /** Waiting for the predecessor to connect. */
    AWAITING_PREDECESSOR,
    RECEIVING,
    /**
     * MigrationFinished read from a predecessor that keeps copies (revision 3): conn.sock stays
     * open for this process's ownership confirmations until the predecessor closes it.
     */
    CONFIRMING,
    /**
     * EOF, bad input, the predecessor left without connecting, or (revision 2) MigrationFinished.
     */
    DONE
  }

  private final UnixServer server;
  private final PeerCheck peers;
  private final ProcessIdentity predecessor;

  /** The predecessor keeps a copy of each connection until this process confirms it owns it. */
  private final boolean predecessorKeepsCopies;

  private final long generation;
  private final ConnectionArrivals arrivals;
  private final HandoffEvents events;
  private final IncomingStepObserver steps;
  private volatile State state = State.AWAITING_PREDECESSOR;
  private volatile boolean predecessorGone;
  private long received;
  private long firstArrivalNanos;
  private long startedNanos;
  private boolean endReported;
  private OwnershipConfirmations confirmations;

  public ConnectionReceiver(
      UnixServer server,
      PeerCheck peers,
      ProcessIdentity predecessor,
      boolean predecessorKeepsCopies,
      long generation,
      ConnectionArrivals arrivals,
      HandoffEvents events,
      IncomingStepObserver steps) {
    this.server = server;
    this.peers = peers;
    this.predecessor = predecessor;
    this.predecessorKeepsCopies = predecessorKeepsCopies;
    this.generation = generation;
    this.arrivals = arrivals;
    this.events = events;
    this.steps = steps;
  }

  public void start() {
    HandoffThreads.start("conn-receiver", this::run);
  }

  /**
   * The predecessor finished its drain or died. If it never connected, stop waiting; if it did,
   * read on to EOF, so that no connection still in the socket is dropped.
   */
  public void predecessorGone() {
    // Not closing the server here: the predecessor's connection may sit in its accept queue
    // (connected, fds sent, drain finished) and closing would drop it with every fd in it. The
    // receiving thread takes a last look at the queue within ACCEPT_POLL and then closes it.
    predecessorGone = true;
  }

  /** This process is going away. */
  public void close() {
    predecessorGone = true;
    state = State.DONE;
    closeServer();
  }

  private void run() {
    UnixConnection connection = awaitPredecessor();
    closeServer(); // one peer ever: a second connect must find nobody
    if (connection == null) {
      state = State.DONE;
      return;
    }
    state = State.RECEIVING;
    startedNanos = System.nanoTime();
    try (ControlChannel channel = new ControlChannel(connection)) {
      if (predecessorKeepsCopies) {
        confirmations = confirmationsOn(channel);
      }
      receive(channel);
    } finally {
      state = State.DONE;
      if (confirmations != null) {
        confirmations.close();
      }
      reportEnd();
    }
  }

  private OwnershipConfirmations confirmationsOn(ControlChannel channel) {
    try {
      return new OwnershipConfirmations(channel, generation);
    } catch (OsException e) {
      log.warn(
          "handoff (generation {}): cannot confirm ownership on {}: {}; the predecessor keeps its"
              + " copies until it exits",
          generation,
          channel.path(),
          e.getMessage());
      return null;
    }
  }

  /** Once: how many connections arrived and how long that took. */
  private void reportEnd() {
    if (endReported) {
      return;
    }
    endReported = true;
    Duration took =
        Duration.ofNanos(
            System.nanoTime() - (firstArrivalNanos == 0 ? startedNanos : firstArrivalNanos));
    log.info(
        "handoff (generation {}): {} live connection(s) received on {} in {} ms",
        generation,
        received,
        server.path(),
        took.toMillis());
    events.migrationEnded(received, took);
  }

  private UnixConnection awaitPredecessor() {
    while (true) {
      // Read before the accept: a connection queued before the predecessor said it was gone is
      // taken by this accept, so the last one finds it.
      boolean lastLook = predecessorGone;
      UnixConnection connection;
      try {
        connection = server.accept(ACCEPT_POLL);
      } catch (OsException e) {
        if (e.isTimeout()) {
          if (lastLook) {
            return null;
          }
          continue;
        }
        if (!predecessorGone) {
          log.warn(
              "handoff (generation {}): accept on {} failed: {}; taking no live connections",
              generation,
              server.path(),
              e.getMessage());
        }
        return null;
      }
      String refusal = checkPeer(connection);
      if (refusal == null) {
        return connection;
      }
      log.warn(
          "handoff (generation {}): refused a connection on {}: {}",
          generation,
          server.path(),
          refusal);
      connection.close();
    }
  }

  private String checkPeer(UnixConnection connection) {
    try {
      PeerCredentials peer = connection.peer();
      return peers
          .problem("peer", peer, predecessor)
          .map(p -> p + " (expected: the predecessor)")
          .orElse(null);
    } catch (OsException e) {
      return "cannot read its credentials: " + e.getMessage();
    }
  }

  private void receive(ControlChannel channel) {
    while (state == State.RECEIVING || state == State.CONFIRMING) {
      ReceivedFrame frame;
      try {
        frame = channel.receive(WAKEUP);
      } catch (OsException e) {
        if (e.isTimeout()) {
          continue; // the predecessor drains on; EOF ends this
        }
        log.warn(
            "handoff (generation {}): reading {} failed: {}; keeping the {} connection(s) received",
            generation,
            channel.path(),
            e.getMessage(),
            received);
        return;
      } catch (PeerClosedException e) {
        return; // the predecessor exited (or died): what it sent is here
      } catch (ControlProtocolException e) {
        log.warn(
            "handoff (generation {}): bad frame on {}: {}; no more live connections are taken",
            generation,
            channel.path(),
            e.getMessage());
        return;
      }
      Envelope envelope = frame.envelope();
      switch (envelope.getBodyCase()) {
        case MOVED_CONNECTION -> {
          if (state == State.RECEIVING) {
            arrived(envelope.getMovedConnection(), frame, channel);
          } else {
            frame.closeFds();
            log.warn(
                "handoff (generation {}): ignoring MovedConnection {} on {} after"
                    + " MigrationFinished (expected: EOF); the predecessor keeps it",
                generation,
                envelope.getMovedConnection().getId(),
                channel.path());
          }
        }
        case MIGRATION_FINISHED -> {
          frame.closeFds();
          log.info(
              "handoff (generation {}): predecessor finished sending connections ({} by its count)",
              generation,
              envelope.getMigrationFinished().getConnectionsSent());
          reportEnd();
          if (!predecessorKeepsCopies) {
            return;
          }
          // Its copies live until it exits: it must still hear what this process comes to own.
          if (state == State.RECEIVING) {
            state = State.CONFIRMING;
          }
        }
        default -> {
          frame.closeFds();
          log.warn(
              "handoff (generation {}): ignoring {} on {} (expected: MOVED_CONNECTION or"
                  + " MIGRATION_FINISHED)",
              generation,
              envelope.getBodyCase(),
              channel.path());
        }
      }
    }
  }

  private void arrived(MovedConnection moved, ReceivedFrame frame, ControlChannel channel) {
    int[] fds = frame.fds();
    ConnectionKind kind = kindOf(moved);
    if (!ProtocolVersion.compatible(frame.envelope().getProtocolVersion())
        || kind == null
        || fds.length != kind.fdCount()
        || moved.getUnconsumed().size() > LiveConnection.MAX_UNCONSUMED_BYTES) {
      log.warn(
          "handoff (generation {}): malformed MovedConnection {} on {}: protocol_version {}, kind"
              + " {}, {} fd(s), {} unconsumed bytes (expected: version {}, HTTP1 with 1 fd or"
              + " TCP_PAIR with 2, at most {} bytes); closing it",
          generation,
          moved.getId(),
          channel.path(),
          frame.envelope().getProtocolVersion(),
          moved.getKind(),
          fds.length,
          moved.getUnconsumed().size(),
          ProtocolVersion.CURRENT,
          LiveConnection.MAX_UNCONSUMED_BYTES);
      Fds.closeAllQuietly(fds);
      return;
    }
    if (firstArrivalNanos == 0) {
      firstArrivalNanos = System.nanoTime();
    }
    received++;
    LiveConnection connection =
        new LiveConnection(
            moved.getListener(),
            kind,
            fds,
            moved.getUnconsumed().toByteArray(),
            moved.getUpstreamEndpoint());
    try {
      arrivals.arrived(
          connection,
          confirmations == null ? OwnershipClaim.NONE : confirmations.claimFor(moved.getId()));
    } catch (RuntimeException e) {
      log.error(
          "handoff (generation {}): the application failed to take {}; closing it",
          generation,
          connection,
          e);
      Fds.closeAllQuietly(fds);
    }
    steps.reached(IncomingStep.CONNECTION_RECEIVED);
  }

  private static ConnectionKind kindOf(MovedConnection moved) {
    return switch (moved.getKind()) {
      case HTTP1 -> ConnectionKind.HTTP1;
      case TCP_PAIR -> ConnectionKind.TCP_PAIR;
      default -> null;
    };
  }

  private void closeServer() {
    server.deleteFileIfStillOurs();
    server.close();
  }
}
