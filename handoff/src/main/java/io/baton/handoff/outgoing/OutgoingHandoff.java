package io.baton.handoff.outgoing;

import io.baton.handoff.DrainOutcome;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.os.UnixServer;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.rundir.RunDirectory;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.HandoffThreads;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outgoing side: serves {@code reconfig.sock} and hands this process's listeners to a
 * successor. One accept thread; one {@link Session} per connection, each on a thread of its own
 * that owns its state, so that a second peer is refused while a first one is being served (the
 * {@link BatonSlot}).
 *
 * <p>Until Ready this process changes nothing: every failure leaves it serving as before. After
 * Ready it drains, and the connection to the successor is held open: EOF on it before the drain
 * finished means the successor died, and this process rolls back — unless the successor said
 * HandedOn first (it handed over in turn, or stops for good): then this process only drains on.
 *
 * <p>Here: the socket itself (published, re-published after a rollback, given up after a successor
 * took over), the accept loop, and the operator's commit or abort, which it posts to the held
 * session. What a session does is the session's.
 */
public final class OutgoingHandoff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutgoingHandoff.class);

  private final RunDirectory runDir;
  private final SessionContext context;
  private final BatonSlot<Session> slot = new BatonSlot<>(Session::state);
  private final AtomicLong sessionIds = new AtomicLong();
  private final ScheduledExecutorService ticker;
  private final Object serverLock = new Object();
  private UnixServer server; // guarded by serverLock
  private volatile boolean closed;

  public OutgoingHandoff(
      RunDirectory runDir,
      HandoffSettings settings,
      HandoffEvents events,
      HandoffSource source,
      PredecessorChain predecessors,
      CompletableFuture<DrainOutcome> successorTookOver)
      throws OsException {
    this.runDir = runDir;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "baton-handoff-drain-progress");
              t.setDaemon(true);
              return t;
            });
    PeerCheck peers = new PeerCheck(Fds.ownUid(), runDir.self());
    this.context =
        new SessionContext(
            runDir,
            settings,
            events,
            source,
            predecessors,
            peers,
            new Admission(peers, source.generation(), settings.maxDraining()),
            ticker,
            successorTookOver);
  }

  /** Starts serving on {@code published}, already reachable at {@code reconfig.sock}. */
  public void start(UnixServer published) {
    synchronized (serverLock) {
      server = published;
    }
    HandoffThreads.start("accept", () -> acceptLoop(published));
  }

  /**
   * Binds a fresh socket at a temporary path and renames it over {@code reconfig.sock}: one atomic
   * step, so a client connecting meanwhile reaches either the old socket or the new one.
   */
  public static UnixServer publish(RunDirectory runDir) throws OsException {
    UnixServer fresh = UnixServer.bind(runDir.newTempControlSocket());
    try {
      fresh.publishAs(runDir.reconfigSocket());
      return fresh;
    } catch (OsException e) {
      fresh.deleteFileIfStillOurs();
      fresh.close();
      throw e;
    }
  }

  /** The server currently published, or null once a successor took over. */
  public UnixServer server() {
    synchronized (serverLock) {
      return server;
    }
  }

  /** The state of the session now holding the baton, if any. */
  public SessionState activeSessionState() {
    return slot.holder().map(Session::state).orElse(null);
  }

  /**
   * Ends the hold of the successor being held, if any, with a commit: this process stops accepting
   * and drains. Returns false when no handoff is held.
   */
  public boolean commitHeld(String why) {
    return slot.holder().map(s -> s.decide(true, why)).orElse(false);
  }

  /**
   * Ends the hold of the successor being held, if any, with an abort: the successor drains what it
   * accepted and exits; this process serves on. Returns false when no handoff is held.
   */
  public boolean abortHeld(String why) {
    return slot.holder().map(s -> s.decide(false, why)).orElse(false);
  }

  BatonSlot<Session> slot() {
    return slot;
  }

  private void acceptLoop(UnixServer listening) {
    while (!closed) {
      UnixConnection connection;
      try {
        connection = listening.accept();
      } catch (OsException e) {
        if (listening.isClosed() || closed) {
          return; // replaced (rollback re-published) or this process is done: not an error
        }
        log.warn(
            "handoff: accept on {} failed, still serving: {}", listening.path(), e.getMessage());
        continue;
      }
      new Session(sessionIds.incrementAndGet(), new ControlChannel(connection), context, this)
          .start();
    }
  }

  /**
   * After a rollback: serves reconfig.sock again, unless this side was closed meanwhile (then a new
   * socket file would outlive the process). Under the server lock, so that {@link #close} either
   * comes first and nothing is published, or comes after and removes what was.
   */
  void serveAgainAfterRollback() {
    UnixServer previous;
    UnixServer fresh;
    synchronized (serverLock) {
      if (closed) {
        log.info(
            "handoff: rolled back while closing; not serving {} again", runDir.reconfigSocket());
        return;
      }
      try {
        fresh = publish(runDir);
      } catch (OsException e) {
        log.error(
            "handoff: rolled back but cannot re-publish {}: {}",
            runDir.reconfigSocket(),
            e.getMessage());
        return;
      }
      previous = server;
      server = fresh;
    }
    if (previous != null) {
      previous.close();
    }
    HandoffThreads.start("accept", () -> acceptLoop(fresh));
    log.info(
        "handoff: rolled back; serving {} again (generation {})",
        runDir.reconfigSocket(),
        context.source().generation());
  }

  /**
   * A successor took over and this process's drain finished: reconfig.sock belongs to the successor
   * now (it may be renaming its socket over the name at this very moment), so only our own bound
   * file is removed, never the published name.
   */
  void handedOver() {
    UnixServer current = detachServer();
    if (current != null) {
      current.deleteBoundFileOnly();
      current.close();
    }
  }

  @Override
  public void close() {
    closed = true;
    ticker.shutdownNow();
    slot.holder().ifPresent(Session::close);
    UnixServer current = detachServer();
    if (current != null) {
      current.deleteFileIfStillOurs();
      current.close();
    }
  }

  /** Stops serving: takes the control socket away from the accept loop's view. */
  private UnixServer detachServer() {
    synchronized (serverLock) {
      UnixServer current = server;
      server = null;
      return current;
    }
  }

  @Override
  public String toString() {
    return "outgoing handoff on " + runDir.reconfigSocket();
  }

  /** For {@link io.baton.handoff.HandoffException} messages elsewhere. */
  public RunDirectory runDirectory() {
    return runDir;
  }
}
