package io.baton.sidecar.config;

import java.time.Duration;

/**
 * Deadlines of the handoff protocol.
 *
 * @param stepTimeout the longest wait for any one control message
 * @param readyTimeout the longest the outgoing process waits for its successor to build everything
 *     and say Ready
 * @param hold whether this process, taking over, asks to be held after Ready: both generations
 *     accept until the operator commits or aborts
 * @param holdTimeout the longest a hold lasts, then it is aborted (the old generation serves on)
 * @param maxDraining how many older generations may drain at once: the active process hands over
 *     only while fewer than this many drain (1: never while its predecessor drains)
 * @param warmUpRequests how many requests a process taking over sends through its own data paths on
 *     loopback before it says Ready (the other paths get a share of it); 0: no warm-up
 * @param warmUpTimeout the longest the warm-up takes; then it says Ready with what it did
 */
public record HandoffConfig(
    Duration stepTimeout,
    Duration readyTimeout,
    boolean hold,
    Duration holdTimeout,
    int maxDraining,
    int warmUpRequests,
    Duration warmUpTimeout) {

  public static final int DEFAULT_WARM_UP_REQUESTS = 500;
  public static final Duration DEFAULT_WARM_UP_TIMEOUT = Duration.ofSeconds(1);
}
