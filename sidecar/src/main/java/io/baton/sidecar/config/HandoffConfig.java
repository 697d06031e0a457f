package io.baton.sidecar.config;

import java.time.Duration;

/**
 * Deadlines of the handoff protocol.
 *
 * @param stepTimeout the longest wait for any one control message
 * @param readyTimeout the longest the outgoing process waits for its successor to build
 *     everything and say Ready
 */
public record HandoffConfig(Duration stepTimeout, Duration readyTimeout) {}
