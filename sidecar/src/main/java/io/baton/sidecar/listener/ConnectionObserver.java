package io.baton.sidecar.listener;

/**
 * Told when a client connection of a {@link ServingSocket} opens or closes (on its event loop), and
 * when its connection limit stops or resumes accepting.
 */
public interface ConnectionObserver {
  ConnectionObserver NONE = new ConnectionObserver() {};

  /** Accepted by this process. */
  default void opened(ServingSocket socket) {}

  /** Moved here by the predecessor, which accepted it (and counted that). */
  default void adopted(ServingSocket socket) {
    opened(socket);
  }

  default void closed(ServingSocket socket) {}

  /** The listener holds its connection limit: it stops accepting (on the listening loop). */
  default void limitReached(ServingSocket socket, int open) {}

  /** A connection closed below the limit: the listener accepts again (on the listening loop). */
  default void limitLifted(ServingSocket socket, int open) {}

  /**
   * The process is (nearly) out of file descriptors: the listener stops accepting until some are
   * freed. {@code cause}: the failed accept, or null when only the reserve was reached.
   */
  default void shortOfFds(ServingSocket socket, int open, String budget, Throwable cause) {}

  /** Descriptors were freed: the listener accepts again. */
  default void fdsFreed(ServingSocket socket, int open, String budget) {}
}
