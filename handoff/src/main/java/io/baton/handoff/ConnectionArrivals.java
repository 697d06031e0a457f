package io.baton.handoff;

/**
 * Where the incoming process takes the live connections its predecessor sends. Called on the
 * handoff's receiving thread, one connection at a time, in the order they were sent.
 */
@FunctionalInterface
public interface ConnectionArrivals {

  /** {@code connection}'s fds are the callee's now: it registers them or closes them. */
  void arrived(LiveConnection connection);
}
