package io.baton.sidecar.listener;

/** Told when a client connection of a {@link ServingSocket} opens or closes (on its event loop). */
public interface ConnectionObserver {
  ConnectionObserver NONE = new ConnectionObserver() {};

  /** Accepted by this process. */
  default void opened(ServingSocket socket) {}

  /** Moved here by the predecessor, which accepted it (and counted that). */
  default void adopted(ServingSocket socket) {
    opened(socket);
  }

  default void closed(ServingSocket socket) {}
}
