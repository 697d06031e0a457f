package io.baton.handoff;

/** How one handoff attempt ended, as counted by the outgoing process. */
public enum HandoffResult {
  /** The successor took over and this process drained. */
  SUCCESS,
  /**
   * The peer was refused before anything changed (version, uid, pid, concurrent handoff, bad
   * input).
   */
  REFUSED,
  /** The peer died, hung or misbehaved before Ready; this process serves on untouched. */
  FAILED,
  /** The successor died after Ready, during the drain; this process accepts again. */
  ROLLED_BACK,
  /**
   * The successor was held after Ready (both accepted) and the hold ended without a commit: the
   * operator aborted, the successor stopped, or the hold timed out. This process never stopped.
   */
  ABORTED
}
