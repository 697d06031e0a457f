package io.baton.handoff.migration;

import io.baton.handoff.OwnershipClaim;
import io.baton.handoff.os.Fds;
import io.baton.handoff.os.OsException;
import io.baton.handoff.wire.ControlChannel;
import io.baton.handoff.wire.ControlProtocolException;
import io.baton.handoff.wire.ProtocolVersion;
import io.baton.proto.handoff.v1.ConnectionOwned;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incoming side's {@link ConnectionOwned} frames on conn.sock: one per connection, written by
 * whichever event loop first changes the connection's state, before it does. A write is one small
 * frame (about 10 bytes, one write(2) under a lock); idle connections cost nothing. Once a write
 * fails (the predecessor closed conn.sock: it exited, and its copies with it), nothing more is
 * written.
 *
 * <p>The frames go out through a dup of the socket's fd, never through the receiving channel: a
 * write that fails with EPIPE makes junixsocket close its socket, and closing it while
 * MovedConnection frames are still queued in it would drop those connections (their last fds).
 */
final class OwnershipConfirmations implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OwnershipConfirmations.class);

  private final ControlChannel channel;
  private final long generation;
  private final int writeFd;
  private final Object writeLock = new Object();
  private final AtomicBoolean gone = new AtomicBoolean();
  private boolean closed;

  /**
   * @throws OsException if the socket's fd cannot be duplicated (then nothing is confirmed)
   */
  OwnershipConfirmations(ControlChannel channel, long generation) throws OsException {
    this.channel = channel;
    this.generation = generation;
    this.writeFd = channel.duplicateFd();
  }

  /** The claim of connection {@code id}: the first call confirms it, later calls do nothing. */
  OwnershipClaim claimFor(long id) {
    AtomicBoolean claimed = new AtomicBoolean();
    return () -> {
      if (claimed.compareAndSet(false, true)) {
        confirm(id);
      }
    };
  }

  private void confirm(long id) {
    if (gone.get()) {
      return;
    }
    try {
      byte[] frame =
          channel.frame(
              ProtocolVersion.envelope()
                  .setConnectionOwned(ConnectionOwned.newBuilder().addIds(id))
                  .build());
      synchronized (writeLock) {
        if (gone.get()) {
          return;
        }
        Fds.writeFully(writeFd, frame);
      }
    } catch (OsException | ControlProtocolException | RuntimeException e) {
      if (gone.compareAndSet(false, true)) {
        log.info(
            "handoff (generation {}): no more ownership confirmations on {} ({}): the predecessor"
                + " closed it, and with it its copies",
            generation,
            channel.path(),
            e.getMessage());
      }
    }
  }

  /** The receiver is done with conn.sock: no more confirmations, the write fd closes. */
  @Override
  public void close() {
    synchronized (writeLock) {
      gone.set(true);
      if (!closed) {
        closed = true;
        Fds.closeQuietly(writeFd);
      }
    }
  }
}
