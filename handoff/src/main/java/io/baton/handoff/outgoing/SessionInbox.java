package io.baton.handoff.outgoing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The events of one session, in the order they were posted. Any thread posts; only the session's
 * thread takes. Once the session has ended the inbox refuses new events, so that a caller waiting
 * for an answer learns at once that nobody will give one.
 */
final class SessionInbox {

  private final BlockingQueue<SessionEvent> queue = new LinkedBlockingQueue<>();
  private boolean closed; // guarded by this

  /** Queues {@code event}; false if the session has ended. */
  synchronized boolean post(SessionEvent event) {
    if (closed) {
      return false;
    }
    queue.add(event);
    return true;
  }

  /** The next event, waiting at most {@code timeout}; null if none came by then. */
  SessionEvent next(Duration timeout) throws InterruptedException {
    return queue.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
  }

  /** The next event, waiting as long as it takes. */
  SessionEvent next() throws InterruptedException {
    return queue.take();
  }

  /**
   * Refuses events from now on. An operator's decision still queued is answered false: the session
   * ended without taking it (a commit that came as the successor died cannot bring it back).
   */
  synchronized void close() {
    closed = true;
    List<SessionEvent> left = new ArrayList<>();
    queue.drainTo(left);
    for (SessionEvent event : left) {
      if (event instanceof SessionEvent.HoldDecision decision) {
        decision.accepted().complete(false);
      }
    }
  }
}
