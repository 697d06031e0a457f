package io.baton.handoff.migration;

import com.google.protobuf.ByteString;
import io.baton.handoff.ConnectionSink;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.os.OsException;
import io.baton.handoff.os.PeerCredentials;
import io.baton.handoff.os.UnixConnection;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.peer.ProcessIdentity;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.ConnectionKind;
import io.baton.proto.handoff.v1.MigrationFinished;
import io.baton.proto.handoff.v1.MovedConnection;
import io.baton.proto.handoff.v1.RefusalReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outgoing side of {@code conn.sock}: one connection to the successor, one thread writing
 * {@link MovedConnection} frames in the order they were queued.
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
  private final AtomicLong sent = new AtomicLong();
  private final Duration sendTimeout;
  private volatile State state = State.OPEN;
  private volatile long sendingSinceNanos;
  private long nextId = 1;

  private ConnectionSender(ControlChannel channel, Duration sendTimeout) {
    this.channel = channel;
    this.sendTimeout = sendTimeout;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "baton-handoff-conn-sender");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Connects to the successor's {@code conn.sock} and checks it is served by the successor: same
   * uid (or root) and, where comparable, the successor's pid ({@link PeerCheck}).
   */
  public static ConnectionSender connect(
      Path connPath, PeerCheck peers, ProcessIdentity successor, Duration timeout)
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
      return new ConnectionSender(channel, timeout);
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
    sendingSinceNanos = System.nanoTime();
    try {
      channel.send(ProtocolVersion.envelope().setMovedConnection(moved).build(), connection.fds());
      sent.incrementAndGet();
      done.complete(null);
    } catch (OsException | ControlProtocolException | RuntimeException e) {
      breakWith("sending connection " + id + " (" + connection + ") failed: " + e.getMessage());
      done.completeExceptionally(e);
    } finally {
      sendingSinceNanos = 0;
    }
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
              + " (the successor stopped reading conn.sock)");
    }
  }

  /**
   * No more connections: sends MigrationFinished after whatever is queued, closes the socket, and
   * waits at most the step timeout for that.
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
            channel.close();
          });
    } catch (RejectedExecutionException e) {
      channel.close();
    }
    thread.shutdown();
    try {
      if (!thread.awaitTermination(sendTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        breakWith("sends still queued after " + sendTimeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      breakWith("interrupted while finishing");
    }
  }

  /** The handoff rolled back or failed: whatever is not sent yet stays with this process. */
  public void abandon(String reason) {
    breakWith(reason);
    thread.shutdown();
  }

  private void breakWith(String reason) {
    if (state == State.OPEN) {
      state = State.BROKEN;
      log.warn(
          "handoff: no more connections go to the successor over {}: {} ({} sent)",
          channel.path(),
          reason,
          sent.get());
    }
    channel.close();
  }
}
