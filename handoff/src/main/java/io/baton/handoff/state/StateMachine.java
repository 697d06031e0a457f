package io.baton.handoff.state;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current state of one machine. Every change goes through {@link #moveTo}, {@link #tryMoveTo},
 * {@link #leaveFor} or {@link #moveFrom}, which check it against the state's {@link
 * StateTable#next()}; the state is read without a lock by any thread (it is volatile) and changed
 * under this object's lock.
 */
public final class StateMachine<S extends Enum<S> & StateTable<S>> {

  private static final Logger log = LoggerFactory.getLogger(StateMachine.class);

  private final String name;
  private volatile S state;

  /**
   * @param name what the machine is, for log lines and errors, e.g. {@code handoff session 3 on
   *     /run/baton/reconfig.sock}
   */
  public StateMachine(String name, S initial) {
    this.name = name;
    this.state = initial;
  }

  public S state() {
    return state;
  }

  /**
   * Moves to {@code target}.
   *
   * @throws IllegalStateException if {@code target} is not one of the current state's next states
   */
  public synchronized void moveTo(S target) {
    S from = state;
    if (!from.next().contains(target)) {
      throw new IllegalStateException(
          name + ": " + from + " -> " + target + " (expected one of " + from.next() + ")");
    }
    log.debug("{}: {} -> {}", name, from, target);
    state = target;
  }

  /**
   * Moves to {@code target} if it is one of the current state's next states; returns whether it
   * did.
   */
  public synchronized boolean tryMoveTo(S target) {
    if (!state.next().contains(target)) {
      return false;
    }
    moveTo(target);
    return true;
  }

  /**
   * Moves to {@code target} unless the machine has ended (another thread, closing it, got to a
   * terminal state first); returns the state it left, or empty if it had ended. For a move that
   * races only with the machine's end, and for work done once, by whoever leaves a state.
   *
   * @throws IllegalStateException if the machine has not ended and {@code target} is not one of its
   *     next states
   */
  public synchronized Optional<S> leaveFor(S target) {
    S from = state;
    if (from.isTerminal()) {
      return Optional.empty();
    }
    moveTo(target);
    return Optional.of(from);
  }

  /**
   * Moves from {@code expected} to {@code target} if the machine is in {@code expected}; returns
   * whether it did. For a move that only one of several racing threads may make.
   *
   * @throws IllegalStateException if the machine is in {@code expected} and {@code target} is not
   *     one of its next states
   */
  public synchronized boolean moveFrom(S expected, S target) {
    if (state != expected) {
      return false;
    }
    moveTo(target);
    return true;
  }

  @Override
  public String toString() {
    return name + " in " + state;
  }
}
