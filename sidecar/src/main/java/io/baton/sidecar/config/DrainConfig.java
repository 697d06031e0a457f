package io.baton.sidecar.config;

import java.time.Duration;

/** How the outgoing generation drains: whatever is still open at {@code timeout} is closed. */
public record DrainConfig(Duration timeout) {}
