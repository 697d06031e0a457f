package io.baton.sidecar.upstream;

import io.baton.sidecar.config.HostPort;
import java.time.Duration;
import java.util.Objects;

/**
 * One endpoint of a cluster with nginx's per-server parameters.
 *
 * @param weight its share of the requests, relative to the others (smooth weighted round robin)
 * @param maxFails failures within {@code failTimeout} after which it is skipped for {@code
 *     failTimeout}; 0 never skips it
 * @param down taken out by the operator: never chosen
 */
public record Member(
    HostPort address, int weight, int maxFails, Duration failTimeout, boolean down) {

  public static final int DEFAULT_WEIGHT = 1;
  public static final int DEFAULT_MAX_FAILS = 1;
  public static final Duration DEFAULT_FAIL_TIMEOUT = Duration.ofSeconds(10);

  public Member {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(failTimeout, "failTimeout");
    if (weight < 1) {
      throw new IllegalArgumentException("weight: " + weight + " (expected 1 or more)");
    }
    if (maxFails < 0) {
      throw new IllegalArgumentException("maxFails: " + maxFails + " (expected 0 or more)");
    }
    if (failTimeout.isNegative()) {
      throw new IllegalArgumentException("failTimeout: " + failTimeout + " (expected 0 or more)");
    }
  }

  /** A member with nginx's defaults: weight 1, max_fails 1, fail_timeout 10s, up. */
  public static Member of(HostPort address) {
    return new Member(address, DEFAULT_WEIGHT, DEFAULT_MAX_FAILS, DEFAULT_FAIL_TIMEOUT, false);
  }
}
