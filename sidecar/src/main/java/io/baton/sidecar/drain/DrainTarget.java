package io.baton.sidecar.drain;

/** What a drain watches and acts on: the client connections of this process's data listeners. */
public interface DrainTarget {

  /** Client connections still open. */
  int openConnections();

  /** Requests received and not yet answered. */
  int activeRequests();

  /** Tell every open connection the drain began (it answers with {@code Connection: close}). */
  void announceDrain();

  /** The deadline passed: close whatever is still open. Returns how many connections it closed. */
  int closeRemaining();
}
