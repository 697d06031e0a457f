package io.baton.sidecar.lifecycle;

import java.util.EnumSet;
import java.util.Set;

/** The life of one Baton process. Transitions other than those listed are bugs and throw. */
public enum Phase {
  /** Config loaded; asking the run directory whether a process is active. */
  STARTING,
  /**
   * Received the predecessor's listeners; building upstreams, admin and metrics; from Ready on
   * accepting too, until the predecessor stopped (or, held, until the operator commits).
   */
  TAKING_OVER,
  /** Accepting on every listener; the one process whose {@code /ready} answers 200. */
  SERVING,
  /**
   * A successor accepts now (or SIGTERM came, or a held takeover was aborted); finishing what is
   * open, then exiting.
   */
  DRAINING,
  /** Every listener and connection closed; the process is about to exit. */
  STOPPED;

  /** The phases this one may move to. A rollback is DRAINING back to SERVING. */
  public Set<Phase> next() {
    return switch (this) {
      case STARTING -> EnumSet.of(TAKING_OVER, SERVING, STOPPED);
      case TAKING_OVER -> EnumSet.of(SERVING, DRAINING, STOPPED);
      case SERVING -> EnumSet.of(DRAINING, STOPPED);
      case DRAINING -> EnumSet.of(SERVING, STOPPED);
      case STOPPED -> EnumSet.noneOf(Phase.class);
    };
  }
}
