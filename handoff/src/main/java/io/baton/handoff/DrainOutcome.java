package io.baton.handoff;

import java.time.Duration;

/** How a drain ended. */
public record DrainOutcome(int closedAtDeadline, Duration took) {}
