package io.baton.sidecar.upstream;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A member as the balancer sees it now: for the admin {@code /clusters} JSON and {@code
 * baton_cluster_members}.
 *
 * @param failures failures counted in its current {@code failTimeout} window (0 once the window or
 *     the FAILED time has passed, and after a success)
 * @param failedUntil when it becomes eligible again; present only in state FAILED
 */
public record MemberStatus(
    Member member, State state, int failures, Optional<Instant> failedUntil) {

  public MemberStatus {
    Objects.requireNonNull(member, "member");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(failedUntil, "failedUntil");
    if (failedUntil.isPresent() != (state == State.FAILED)) {
      throw new IllegalArgumentException(
          "failedUntil: "
              + failedUntil
              + " (expected present exactly when FAILED, state is "
              + state
              + ")");
    }
  }

  /** Whether the balancer chooses a member, with its label in JSON and metrics. */
  public enum State {
    /** Chosen in its turn. */
    HEALTHY("healthy"),
    /**
     * Failed {@code maxFails} times within {@code failTimeout}: skipped until {@code failedUntil},
     * unless every member that is not down is FAILED too.
     */
    FAILED("failed"),
    /** Taken out by the operator ({@code down}): never chosen. */
    DOWN("down");

    private final String label;

    State(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }
}
