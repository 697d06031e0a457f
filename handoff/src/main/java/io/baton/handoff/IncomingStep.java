package io.baton.handoff;

/** The steps of the incoming side, in order, as reported to an {@link IncomingStepObserver}. */
public enum IncomingStep {
  /** The active process accepted our Hello. */
  WELCOMED,
  /** Every listener fd has arrived; nothing accepts on them in this process yet. */
  LISTENERS_RECEIVED,
  /** We accept on every listener and have told the outgoing process so. */
  READY_SENT,
  /** A live connection from the draining predecessor was taken over (once per connection). */
  CONNECTION_RECEIVED
}
