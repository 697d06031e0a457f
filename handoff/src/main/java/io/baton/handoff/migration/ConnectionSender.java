package io.baton.handoff.migration;

import com.google.protobuf.ByteString;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.FrameStream;
import io.baton.handoff.wire.HandoffThreads;
import io.baton.handoff.wire.PeerClosedException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.ConnectionKind;
import io.baton.proto.handoff.v1.Envelope;
import io.baton.proto.handoff.v1.MigrationFinished;
import io.baton.proto.handoff.v1.MovedConnection;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outgoing side of {@code conn.sock}: one connection to the successor, one thread writing
 * {@link MovedConnection} frames in the order they were queued.
 *
 * <p>With a successor that confirms ownership (revision 3), each connection's fds are dup'ed before
 * the send and kept in {@link RetainedConnections}; a second thread reads the successor's {@link
 * ConnectionOwned} frames and closes the copies they name. If the successor dies, {@link
 * #takeBackUnowned} hands back the rest once conn.sock reached EOF, i.e. once every confirmation
 * the successor wrote has been read. The socket then stays open after MigrationFinished: the
 * successor confirms as it touches connections, until this process's session ends ({@link #close}).
 */
public final class ConnectionSender implements ConnectionSink {

  private static final Logger log = LoggerFactory.getLogger(ConnectionSender.class);

  /** Where the sender is; only the sending thread moves it forward, anyone may fail it. */
  private enum State {
    OPEN,
    /** A send failed, the successor went away, or the handoff rolled back: nothing more is sent. */
    BROKEN,
    /** MigrationFinished was sent (or the attempt made): the connection is closed. */
    FINISHED
  }

  private final ControlChannel channel;
  private final ExecutorService thread;

  /** Copies kept until the successor owns them; null if it never confirms (revision 2). */
  private final RetainedConnections retained;

  private final Consumer<LiveConnection> onOwned;
  private final CompletableFuture<Void> readerEnded = new CompletableFuture<>();
  private final AtomicLong sent = new AtomicLong();
  private final Duration sendTimeout;
  private volatile State state = State.OPEN;
  private volatile long sendingSinceNanos;
  private long nextId = 1;

  private ConnectionSender(
      ControlChannel channel,
      Duration sendTimeout,
      boolean successorConfirms,
      Consumer<LiveConnection> onOwned) {
    this.channel = channel;
    this.sendTimeout = sendTimeout;
    this.retained = successorConfirms ? new RetainedConnections() : null;
    this.onOwned = onOwned;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "baton-handoff-conn-sender");
              t.setDaemon(true);
              return t;
            });
    if (retained == null) {
      readerEnded.complete(null);
    } else {
      HandoffThreads.start("conn-owned-reader", this::readConfirmations);
    }
  }

  /**
   * Connects to the successor's {@code conn.sock} and checks it is served by the successor: same
   * uid (or root) and, where comparable, the successor's pid ({@link PeerCheck}).
   *
   * @param successorConfirms the successor said protocol revision 3 or later in Hello: it confirms
   *     each connection it owns, and this process keeps a copy of each until then
   * @param onOwned told of each connection the successor confirmed (its fds already closed here)
   */
  public static ConnectionSender connect(
      Path connPath,
      PeerCheck peers,
      ProcessIdentity successor,
      Duration timeout,
      boolean successorConfirms,
      Consumer<LiveConnection> onOwned)
      throws OsException, ControlProtocolException {
    ControlChannel channel = new ControlChannel(UnixConnection.connect(connPath, timeout));
    try {
      PeerCredentials peer = channel.peer();
      Optional<String> uidProblem =
          peers.uidProblem(connPath + " is served by a process with", peer);
      if (uidProblem.isPresent()) {
        throw new ControlProtocolException(RefusalReason.PEER_UID_MISMATCH, uidProblem.get());
      }
      Optional<String> pidProblem =
          peers.pidProblem(connPath + " is served by a process with", peer, successor);
      if (pidProblem.isPresent()) {
        throw new ControlProtocolException(
            RefusalReason.PEER_PID_MISMATCH, pidProblem.get() + " (expected: the successor)");
      }
      return new ConnectionSender(channel, timeout, successorConfirms, onOwned);
    } catch (OsException | ControlProtocolException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public boolean isOpen() {
    return state == State.OPEN;
  }

  @Override
  public long sent() {
    return sent.get();
  }

  @Override
  public CompletableFuture<Void> send(LiveConnection connection) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (state != State.OPEN) {
      done.completeExceptionally(
          new IllegalStateException("conn.sock to the successor is " + state));
      return done;
    }
    try {
      thread.execute(() -> sendNow(connection, done));
    } catch (RejectedExecutionException e) {
      done.completeExceptionally(
          new IllegalStateException("conn.sock to the successor is " + state, e));
    }
    return done;
  }

  private void sendNow(LiveConnection connection, CompletableFuture<Void> done) {
    if (state != State.OPEN) {
      done.completeExceptionally(
          new IllegalStateException("conn.sock to the successor is " + state));
      return;
    }
    long id = nextId++;
    MovedConnection.Builder moved =
        MovedConnection.newBuilder()
            .setId(id)
            .setListener(connection.listener())
            .setKind(ConnectionKind.valueOf(connection.kind().name()))
            .setUnconsumed(ByteString.copyFrom(connection.unconsumed()))
            .setUpstreamEndpoint(connection.upstreamEndpoint());
    boolean kept = retained != null && retainCopy(id, connection);
    sendingSinceNanos = System.nanoTime();
    try {
      channel.send(ProtocolVersion.envelope().setMovedConnection(moved).build(), connection.fds());
      sent.incrementAndGet();
      done.complete(null);
    } catch (OsException | ControlProtocolException | RuntimeException e) {
      if (kept) {
        retained.forget(id);
      }
      breakWith(
          "sending connection " + id + " (" + connection + ") failed: " + e.getMessage(),
          retained == null);
      done.completeExceptionally(e);
    } finally {
      sendingSinceNanos = 0;
    }
  }

  /**
   * Keeps a dup of {@code connection}'s fds as {@code id} (one dup(2) per fd: what ownership costs
   * a move here). Without one (no fd left) the connection still moves, unprotected, as before
   * revision 3.
   */
  private boolean retainCopy(long id, LiveConnection connection) {
    int[] fds = connection.fds();
    int[] copies = new int[fds.length];
    int made = 0;
    try {
      for (; made < fds.length; made++) {
        copies[made] = Fds.dup(fds[made]);
      }
    } catch (OsException e) {
      Fds.closeAllQuietly(Arrays.copyOf(copies, made));
      log.warn(
          "handoff: no copy kept of connection {} ({}): {}; if the successor dies before it owns"
              + " it, it is lost",
          id,
          connection,
          e.getMessage());
      return false;
    }
    LiveConnection copy =
        new LiveConnection(
            connection.listener(),
            connection.kind(),
            copies,
            connection.unconsumed(),
            connection.upstreamEndpoint());
    if (!retained.retain(id, copy)) {
      Fds.closeAllQuietly(copies);
      return false;
    }
    return true;
  }

  /**
   * The conn.sock reader of a successor that confirms: closes the copy of each connection it owns,
   * until EOF (the successor died or exited, or {@link #close} shut the socket down) or an error.
   * It reads through a dup of the socket's fd ({@link FrameStream}): a send that fails with EPIPE
   * when the successor dies makes junixsocket close its socket, and the confirmations still unread
   * in it must be read all the same before anything is taken back.
   */
  private void readConfirmations() {
    FrameStream frames;
    try {
      frames = new FrameStream(channel.duplicateFd(), channel.path());
    } catch (OsException e) {
      log.warn(
          "handoff: cannot read confirmations on {}: {}; the copies stay here until this process"
              + " exits",
          channel.path(),
          e.getMessage());
      readerEnded.completeExceptionally(e);
      return;
    }
    try (frames) {
      while (true) {
        Envelope envelope;
        try {
          envelope = frames.next();
        } catch (OsException e) {
          log.warn("handoff: reading {} failed: {}", channel.path(), e.getMessage());
          return;
        } catch (PeerClosedException e) {
          return; // the successor is gone: every confirmation it wrote has been read
        } catch (ControlProtocolException e) {
          log.warn(
              "handoff: bad frame on {}: {}; no more confirmations are read",
              channel.path(),
              e.getMessage());
          return;
        }
        if (envelope.getBodyCase() != Envelope.BodyCase.CONNECTION_OWNED) {
          log.warn(
              "handoff: ignoring {} on {} (expected: CONNECTION_OWNED)",
              envelope.getBodyCase(),
              channel.path());
          continue;
        }
        for (long id : envelope.getConnectionOwned().getIdsList()) {
          LiveConnection owned = retained.owned(id);
          if (owned == null) {
            log.warn(
                "handoff: the successor owns connection {}, which is not held here (expected:"
                    + " an id sent and not confirmed yet)",
                id);
          } else {
            onOwned.accept(owned);
          }
        }
      }
    } finally {
      readerEnded.complete(null);
    }
  }

  /** Connections the successor confirmed it owns so far. */
  public long owned() {
    return retained == null ? 0 : retained.owned();
  }

  /**
   * The successor died: once nothing is being sent any more and conn.sock reached EOF (every
   * confirmation it wrote has been read), completes with the connections it never confirmed, their
   * fds this process's own, in the order they were sent. Empty for a successor that never confirms,
   * or if conn.sock is still open after the step timeout (then the successor is alive and may own
   * them: the copies close when this process does).
   */
  public CompletableFuture<List<LiveConnection>> takeBackUnowned() {
    if (retained == null) {
      return CompletableFuture.completedFuture(List.of());
    }
    thread.shutdown();
    CompletableFuture<List<LiveConnection>> unowned = new CompletableFuture<>();
    HandoffThreads.start(
        "conn-take-back",
        () -> {
          try {
            if (!thread.awaitTermination(sendTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
              breakWith("a send still blocks after " + sendTimeout, true);
            }
            readerEnded.get(sendTimeout.toMillis(), TimeUnit.MILLISECONDS);
            unowned.complete(retained.takeBackUnowned());
          } catch (TimeoutException e) {
            log.warn(
                "handoff: {} still open {} after the successor went away: its {} unconfirmed"
                    + " connection(s) stay with it",
                channel.path(),
                sendTimeout,
                retained.held());
            unowned.complete(List.of());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unowned.complete(List.of());
          } catch (ExecutionException e) {
            // The reader never ran: which ones the successor owned is unknown. Keep them here
            // (they close when this process does) rather than serve one it may have touched.
            unowned.complete(List.of());
          } finally {
            channel.close();
          }
        });
    return unowned;
  }

  /**
   * This process's session ended (the successor took over for good): closes the copies still held
   * (the successor's keep the sockets) and conn.sock.
   */
  public void close() {
    if (retained != null) {
      int left = retained.release();
      if (left > 0) {
        log.info(
            "handoff: closing this process's copies of {} connection(s) the successor holds and"
                + " has not touched",
            left);
      }
      // EOF for the successor and for our reader (its dup would keep the socket open).
      channel.shutdown();
    }
    channel.close();
  }

  /**
   * A send blocked longer than the step timeout (the successor stopped reading): closing the socket
   * makes it fail, and the connection stays here. Called about once a second.
   */
  public void checkNotStuck() {
    long since = sendingSinceNanos;
    if (since != 0 && System.nanoTime() - since > sendTimeout.toNanos()) {
      breakWith(
          "a send blocked for more than "
              + sendTimeout
              + " (the successor stopped reading conn.sock)",
          true);
    }
  }

  /**
   * No more connections: sends MigrationFinished after whatever is queued and waits at most the
   * step timeout for that. The socket closes then, unless the successor confirms ownership: then it
   * stays open for its confirmations until {@link #close} or {@link #takeBackUnowned}.
   */
  public void finish() {
    try {
      thread.execute(
          () -> {
            if (state == State.OPEN) {
              try {
                channel.send(
                    ProtocolVersion.envelope()
                        .setMigrationFinished(
                            MigrationFinished.newBuilder().setConnectionsSent(sent.get()))
                        .build());
              } catch (OsException | ControlProtocolException | RuntimeException e) {
                log.warn(
                    "handoff: MigrationFinished not sent on {}: {}",
                    channel.path(),
                    e.getMessage());
              }
              state = State.FINISHED;
            }
            if (retained == null) {
              channel.close();
            }
          });
    } catch (RejectedExecutionException e) {
      if (retained == null) {
        channel.close();
      }
    }
    thread.shutdown();
    try {
      if (!thread.awaitTermination(sendTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        breakWith("sends still queued after " + sendTimeout, true);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      breakWith("interrupted while finishing", true);
    }
  }

  /**
   * The handoff rolled back or failed: whatever is not sent yet stays with this process. With a
   * successor that confirms, the socket stays open until the reader has read every confirmation
   * ({@link #takeBackUnowned}).
   */
  public void abandon(String reason) {
    breakWith(reason, retained == null);
    thread.shutdown();
  }

  /**
   * Nothing more is sent. {@code closeSocket}: also unblocks a send in progress and ends the reader
   * (unread confirmations are lost: only when the successor stopped reading, or never confirms).
   */
  private void breakWith(String reason, boolean closeSocket) {
    if (state == State.OPEN) {
      state = State.BROKEN;
      log.warn(
          "handoff: no more connections go to the successor over {}: {} ({} sent)",
          channel.path(),
          reason,
          sent.get());
    }
    if (closeSocket) {
      channel.close();
    }
  }
}
