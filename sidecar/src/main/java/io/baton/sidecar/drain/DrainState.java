package io.baton.sidecar.drain;

import io.baton.sidecar.migration.ConnectionMover;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Whether this process is serving or draining, readable from any event loop. A connection accepted
 * after the drain began (the accept raced with {@code stopAccepting}) asks this at start and
 * behaves as if it had seen {@link DrainEvent#DRAIN_STARTED}.
 */
public final class DrainState {

  /** The two states a connection cares about. */
  public enum Mode {
    /** Keep-alive as usual. */
    SERVING,
    /** Finish what is in flight, answer the next request with {@code Connection: close}. */
    DRAINING
  }

  private final AtomicReference<Mode> mode = new AtomicReference<>(Mode.SERVING);
  private volatile ConnectionMover mover = ConnectionMover.OFF;

  public Mode mode() {
    return mode.get();
  }

  public boolean isDraining() {
    return mode.get() == Mode.DRAINING;
  }

  public void set(Mode value) {
    mode.set(value);
  }

  /**
   * Where connections at a clean boundary go while draining; {@link ConnectionMover#OFF} when they
   * are drained here.
   */
  public ConnectionMover mover() {
    return mover;
  }

  /** Draining with {@code value} (set before {@link Mode#DRAINING}, so that handlers see both). */
  public void setMover(ConnectionMover value) {
    mover = value;
  }
}
