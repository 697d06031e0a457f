package io.baton.handoff;

/**
 * What an outgoing process still has open, as streamed to its successor about once a second, and
 * how many live connections it has sent so far.
 */
public record DrainProgress(int connectionsActive, int requestsActive, long connectionsMigrated) {

  public DrainProgress(int connectionsActive, int requestsActive) {
    this(connectionsActive, requestsActive, 0);
  }
}
