package io.baton.sidecar.systemd;

import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffResult;
import io.baton.sidecar.lifecycle.Lifecycle;
import io.baton.sidecar.lifecycle.Phase;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What systemd is told at each step of this process's life. Lifecycle phases give the start, the
 * serving and the stop; the handoff library's events give the moment the outgoing side begins to
 * hand over (a successor was welcomed), which no phase marks, and the failure that ends it.
 *
 * <pre>
 * moment                        phase / event          sd_notify (STATUS abridged)
 * cold start                    SERVING                MAINPID=self READY=1
 *                                                      STATUS=generation 1 serving on 2 listeners
 * successor welcomed (old)      handoff event          RELOADING=1 MONOTONIC_USEC=...
 *                                                      STATUS=generation 1 handing over to gen. 2
 * new process                   TAKING_OVER            STATUS=generation 2 taking over from gen. 1
 *                               SERVING                MAINPID=self READY=1
 *                                                      STATUS=generation 2 serving on 2 listeners
 * old process                   DRAINING (handoff)     STATUS=generation 1 draining, gen. 2 serves
 * handoff failed before Ready   handoff event          MAINPID=self READY=1
 *   (old)                                              STATUS=generation 1 serving on 2 listeners
 * rollback (old)                SERVING                MAINPID=self READY=1 STATUS=...
 * SIGTERM                       DRAINING               STOPPING=1
 *                                                      STATUS=generation 1 draining to stop
 * </pre>
 */
public final class SystemdStatus implements HandoffEvents, Consumer<Phase> {

  /**
   * The outgoing handoff step after which the successor is known and will be sent our listeners.
   */
  static final String HANDOVER_BEGUN_STEP = "outgoing_welcome";

  private final SystemdNotifier notifier;
  private final int listeners;

  /** This process's generation; set by {@link #follow}, before any phase or handoff event. */
  private volatile LongSupplier generation = () -> 0;

  /** A successor was welcomed and the handoff has not ended in failure. Guarded by {@code this}. */
  private boolean handingOver;

  /**
   * @param listeners how many data listeners this process serves: every configured one, bound or
   *     inherited
   */
  public SystemdStatus(SystemdNotifier notifier, int listeners) {
    this.notifier = notifier;
    this.listeners = listeners;
  }

  /**
   * Reports every phase of {@code lifecycle} from now on.
   *
   * @param generation this process's generation, known once it took over or started cold
   */
  public void follow(Lifecycle lifecycle, LongSupplier generation) {
    this.generation = generation;
    lifecycle.observe(this);
  }

  @Override
  public synchronized void accept(Phase phase) {
    long g = generation.getAsLong();
    switch (phase) {
      case STARTING -> {}
      case TAKING_OVER ->
          notifier.status("generation " + g + " taking over from generation " + (g - 1));
      case SERVING -> {
        handingOver = false;
        notifier.ready(serving());
      }
      case DRAINING -> {
        if (handingOver) {
          notifier.status("generation " + g + " draining, generation " + (g + 1) + " serves");
        } else {
          notifier.stopping("generation " + g + " draining to stop");
        }
      }
      case STOPPED -> {
        if (!handingOver) {
          notifier.status("generation " + g + " stopped");
        }
      }
    }
  }

  @Override
  public synchronized void phaseCompleted(String phase, Duration took) {
    if (HANDOVER_BEGUN_STEP.equals(phase)) {
      handingOver = true;
      long g = generation.getAsLong();
      notifier.reloading("generation " + g + " handing over to generation " + (g + 1));
    }
  }

  @Override
  public synchronized void handoffEnded(HandoffResult result, String detail) {
    // A rollback is reported by the SERVING phase; a success by the successor's READY=1.
    if (handingOver && (result == HandoffResult.FAILED || result == HandoffResult.REFUSED)) {
      handingOver = false;
      notifier.ready(serving() + " (handoff failed: " + detail + ")");
    }
  }

  private String serving() {
    return "generation "
        + generation.getAsLong()
        + " serving on "
        + listeners
        + (listeners == 1 ? " listener" : " listeners");
  }
}
