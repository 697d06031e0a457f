package io.baton.sidecar.adminrpc;

import io.baton.proto.admin.v1.DrainStatus;
import io.baton.proto.admin.v1.HandoffEvent;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The phases of this process as they happen, for {@code WatchHandoff}: lifecycle phases, handoff
 * steps, drain progress. Each watcher gets every event published after it subscribed, in order;
 * when the process stops, every stream ends.
 */
public final class HandoffEventFeed {

  private final List<StreamObserver<HandoffEvent>> watchers = new CopyOnWriteArrayList<>();
  private final Clock clock;
  private volatile long generation;
  private volatile boolean ended;

  public HandoffEventFeed(Clock clock) {
    this.clock = clock;
  }

  /** Known once the process knows whether it took over (and from which generation). */
  public void setGeneration(long value) {
    generation = value;
  }

  /** {@code phase} in snake_case; {@code drain} may be null. */
  public synchronized void publish(String phase, String detail, DrainStatus drain) {
    HandoffEvent.Builder event =
        HandoffEvent.newBuilder()
            .setUnixMillis(clock.millis())
            .setPhase(phase)
            .setDetail(detail)
            .setGeneration(generation);
    if (drain != null) {
      event.setDrain(drain);
    }
    HandoffEvent built = event.build();
    for (StreamObserver<HandoffEvent> w : watchers) {
      try {
        w.onNext(built);
      } catch (RuntimeException e) {
        watchers.remove(w); // cancelled by the watcher: gone
      }
    }
  }

  synchronized void subscribe(StreamObserver<HandoffEvent> watcher) {
    if (ended) {
      watcher.onCompleted();
      return;
    }
    watchers.add(watcher);
  }

  int watchers() {
    return watchers.size();
  }

  void unsubscribe(StreamObserver<HandoffEvent> watcher) {
    watchers.remove(watcher);
  }

  /** The process stops: every stream ends. */
  public synchronized void end() {
    ended = true;
    for (StreamObserver<HandoffEvent> w : watchers) {
      try {
        w.onCompleted();
      } catch (RuntimeException e) {
        // already cancelled
      }
    }
    watchers.clear();
  }
}
