package io.baton.sidecar.lifecycle;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The current {@link Phase} of this process, with its transitions logged and published. */
public final class Lifecycle {

  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

  private final List<Consumer<Phase>> observers = new CopyOnWriteArrayList<>();
  private Phase phase = Phase.STARTING;

  public synchronized Phase phase() {
    return phase;
  }

  /** Observers are told of every transition, in order, under this object's lock. */
  public void observe(Consumer<Phase> observer) {
    observers.add(observer);
  }

  /**
   * Moves to {@code target}.
   *
   * @throws IllegalStateException if {@code target} is not a legal next phase
   */
  public synchronized void moveTo(Phase target, String why) {
    if (!phase.next().contains(target)) {
      throw new IllegalStateException(
          "phase: " + phase + " -> " + target + " (expected one of " + phase.next() + ")");
    }
    log.info("phase {} -> {}: {}", phase, target, why);
    phase = target;
    observers.forEach(o -> o.accept(target));
  }

  /** Moves to {@code target} if it is a legal next phase; returns whether it did. */
  public synchronized boolean tryMoveTo(Phase target, String why) {
    if (!phase.next().contains(target)) {
      return false;
    }
    moveTo(target, why);
    return true;
  }
}
