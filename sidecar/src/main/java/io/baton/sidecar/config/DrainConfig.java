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

  /**
   * A fallback for clients that never answer the PING: the ack normally comes within a round trip,
   * and a final GOAWAY sent before it refuses streams the client had already sent (gRPC clients
   * without retries report those as UNAVAILABLE). At 1 s an overloaded machine (load average 21 on
   * 2 cores) missed the ack and failed 24 of 106,695 gRPC calls in a handoff test.
   */
  public static final Duration DEFAULT_HTTP2_GOAWAY_DELAY = Duration.ofSeconds(5);

  public DrainConfig(Duration timeout, boolean migrate) {
    this(timeout, migrate, DEFAULT_HTTP2_GOAWAY_DELAY);
  }
}
