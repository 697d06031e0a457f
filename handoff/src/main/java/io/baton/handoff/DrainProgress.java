package io.baton.handoff;

/** What an outgoing process still has open, as streamed to its successor about once a second. */
public record DrainProgress(int connectionsActive, int requestsActive) {}
