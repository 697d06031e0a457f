package io.baton.handoff;

import java.util.concurrent.CompletableFuture;

/**
 * Where the outgoing process sends live connections during its drain: the successor's {@code
 * conn.sock}. Sends happen in order on one thread; a connection belongs to exactly one process at
 * any time.
 */
public interface ConnectionSink {

  /** For a successor that takes no connections, or when conn.sock could not be reached. */
  ConnectionSink NONE =
      new ConnectionSink() {
        @Override
        public boolean isOpen() {
          return false;
        }

        @Override
        public CompletableFuture<Void> send(LiveConnection connection) {
          return CompletableFuture.failedFuture(
              new IllegalStateException("the successor takes no connections"));
        }

        @Override
        public long sent() {
          return 0;
        }
      };

  /** Whether sending is worth trying: false once a send failed or the successor is gone. */
  boolean isOpen();

  /**
   * Queues {@code connection}. The future completes when the successor's kernel holds the fds
   * (close yours, never touch the connection again), or exceptionally if they were not sent (the
   * connection is still yours: drain it).
   */
  CompletableFuture<Void> send(LiveConnection connection);

  /** Connections sent so far. */
  long sent();
}
