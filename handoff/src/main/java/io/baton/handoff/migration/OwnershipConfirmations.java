package io.baton.handoff.migration;

import io.baton.handoff.OwnershipClaim;
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
 * frame (about 10 bytes, one write(2) under the connection's write lock); idle connections cost
 * nothing. Once a write fails (the predecessor closed conn.sock: it exited and its copies with it),
 * nothing more is written.
 */
final class OwnershipConfirmations {

  private static final Logger log = LoggerFactory.getLogger(OwnershipConfirmations.class);

  private final ControlChannel channel;
  private final long generation;
  private final AtomicBoolean gone = new AtomicBoolean();

  OwnershipConfirmations(ControlChannel channel, long generation) {
    this.channel = channel;
    this.generation = generation;
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
      channel.send(
          ProtocolVersion.envelope()
              .setConnectionOwned(ConnectionOwned.newBuilder().addIds(id))
              .build());
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
}
