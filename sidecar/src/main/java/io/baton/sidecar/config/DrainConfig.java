package io.baton.sidecar.config;

import java.time.Duration;

/**
 * How the outgoing generation drains: whatever is still open at {@code timeout} is closed.
 *
 * @param migrate whether live connections move to the successor (HTTP/1.1 at a request boundary)
 *     instead of being drained here
 */
public record DrainConfig(Duration timeout, boolean migrate) {}
