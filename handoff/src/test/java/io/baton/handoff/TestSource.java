package io.baton.handoff;

import com.google.protobuf.Any;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;

/** The application's side of the outgoing process, recording what the library asked of it. */
final class TestSource implements HandoffSource {
  final long generation;
  final List<PassableListener> listeners;
  final CompletableFuture<Void> drainBegun = new CompletableFuture<>();
  final CompletableFuture<Set<String>> adopted = new CompletableFuture<>();
  final CompletableFuture<DrainOutcome> drainDone = new CompletableFuture<>();
  final BlockingQueue<String> rollBacks = new LinkedBlockingQueue<>();
  final BlockingQueue<LiveConnection> ownedBySuccessor = new LinkedBlockingQueue<>();
  final BlockingQueue<LiveConnection> resumed = new LinkedBlockingQueue<>();
  final CompletableFuture<ConnectionSink> sink = new CompletableFuture<>();
  volatile DrainProgress progress = new DrainProgress(0, 0);
  volatile List<CarriedCounter> counters = List.of();
  volatile List<Any> carriedState = List.of();

  /**
   * Replaces {@link #counters} when the drain begins, as counting goes on until accepting stops.
   */
  volatile List<CarriedCounter> countersOnceDraining;

  /** What the drain says its deadline is (unix millis); 0: none. */
  volatile long deadlineUnixMillis;

  TestSource(long generation, List<PassableListener> listeners) {
    this.generation = generation;
    this.listeners = List.copyOf(listeners);
  }

  @Override
  public long generation() {
    return generation;
  }

  @Override
  public List<PassableListener> listeners() {
    return listeners;
  }

  @Override
  public Drain beginDrain(Set<String> adoptedListeners, ConnectionSink successor) {
    if (countersOnceDraining != null) {
      counters = countersOnceDraining;
    }
    adopted.complete(adoptedListeners);
    sink.complete(successor);
    drainBegun.complete(null);
    return new Drain() {
      @Override
      public DrainProgress progress() {
        return progress;
      }

      @Override
      public CompletionStage<DrainOutcome> completion() {
        return drainDone;
      }

      @Override
      public long deadlineUnixMillis() {
        return deadlineUnixMillis;
      }
    };
  }

  @Override
  public List<CarriedCounter> counters() {
    return counters;
  }

  @Override
  public List<Any> carriedState() {
    return carriedState;
  }

  @Override
  public void successorOwns(LiveConnection connection) {
    ownedBySuccessor.add(connection);
  }

  @Override
  public boolean resumeUnowned(LiveConnection connection) {
    resumed.add(connection);
    return true;
  }

  @Override
  public void rollBack(String reason) {
    rollBacks.add(reason);
  }

  void finishDrain(int closedAtDeadline, Duration took) {
    drainDone.complete(new DrainOutcome(closedAtDeadline, took));
  }
}
