package io.baton.handoff;

/** Told of each {@link IncomingStep} on the thread that performs the handoff, before it goes on. */
@FunctionalInterface
public interface IncomingStepObserver {
  IncomingStepObserver NONE = step -> {};

  void reached(IncomingStep step);
}
