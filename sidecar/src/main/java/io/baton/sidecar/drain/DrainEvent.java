package io.baton.sidecar.drain;

/**
 * User events fired on the pipeline of every open client connection when the drain starts. Each
 * protocol handler reacts in its own way: HTTP/1.1 answers its current or next request with {@code
 * Connection: close} and closes after it; TCP relays on until either side ends.
 */
public enum DrainEvent {
  DRAIN_STARTED
}
