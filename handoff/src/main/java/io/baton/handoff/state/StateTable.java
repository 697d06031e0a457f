package io.baton.handoff.state;

import java.util.Set;

/**
 * A state of one of the library's state machines, as an enum constant that lists where it may go
 * ({@link #next()}) and says whether it ends the machine ({@link #isTerminal()}, an explicit set,
 * never the constants' order). The sidecar's {@code lifecycle.Phase} is the model.
 */
public interface StateTable<S extends Enum<S> & StateTable<S>> {

  /** The states this one may move to; any other move is a bug and {@link StateMachine} throws. */
  Set<S> next();

  /** Whether this state ends the machine: then {@link #next()} is empty. */
  boolean isTerminal();
}
