package io.baton.sidecar.config;

import java.time.Duration;

/**
 * How the outgoing generation drains: whatever is still open at {@code timeout} is closed.
 *
 * @param migrate whether live connections move to the successor (HTTP/1.1 at a request boundary)
 *     instead of being drained here
 * @param http2GoawayDelay how long an HTTP/2 connection waits after its first GOAWAY (last stream
 *     2^31-1) for the PING ack before it sends the final GOAWAY with the real last stream id
 */
public record DrainConfig(Duration timeout, boolean migrate, Duration http2GoawayDelay) {

  public static final Duration DEFAULT_HTTP2_GOAWAY_DELAY = Duration.ofSeconds(1);

  public DrainConfig(Duration timeout, boolean migrate) {
    this(timeout, migrate, DEFAULT_HTTP2_GOAWAY_DELAY);
  }
}
