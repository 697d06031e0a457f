package io.baton.sidecar.listener;

/** Told when a client connection of a {@link ServingSocket} opens or closes (on its event loop). */
public interface ConnectionObserver {
  ConnectionObserver NONE = new ConnectionObserver() {};

  default void opened(ServingSocket socket) {}

  default void closed(ServingSocket socket) {}
}
