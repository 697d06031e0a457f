package io.baton.sidecar.drain;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.DrainOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The drain's timing logic on a hand-driven clock: no waiting, no sleeping. */
class DrainControllerTest {

  private final AtomicLong nanos = new AtomicLong(1_000);
  private final List<Runnable> scheduled = new ArrayList<>();
  private final List<Duration> delays = new ArrayList<>();
  private final FakeTarget target = new FakeTarget();

  private DrainController controller(Duration timeout) {
    DeadlineScheduler scheduler =
        (task, delay) -> {
          scheduled.add(task);
          delays.add(delay);
          return () -> scheduled.remove(task);
        };
    return new DrainController(target, timeout, nanos::get, scheduler);
  }

  @Test
  void finishesAtOnceWhenNothingIsOpen() {
    DrainController d = controller(Duration.ofSeconds(30)).begin();
    assertThat(d.completion().toCompletableFuture())
        .isCompletedWithValue(new DrainOutcome(0, Duration.ZERO));
    assertThat(scheduled).as("the deadline is disarmed once the drain finished").isEmpty();
  }

  @Test
  void announcesTheDrainAndFinishesWhenTheLastConnectionCloses() {
    target.open = 2;
    DrainController d = controller(Duration.ofSeconds(30)).begin();
    assertThat(target.announced).isTrue();
    assertThat(delays).containsExactly(Duration.ofSeconds(30));

    target.open = 1;
    nanos.addAndGet(Duration.ofMillis(400).toNanos());
    d.connectionClosed();
    assertThat(d.completion().toCompletableFuture()).isNotDone();

    target.open = 0;
    nanos.addAndGet(Duration.ofMillis(100).toNanos());
    d.connectionClosed();
    assertThat(d.completion().toCompletableFuture())
        .isCompletedWithValue(new DrainOutcome(0, Duration.ofMillis(500)));
    assertThat(target.closedRemaining).isFalse();
  }

  @Test
  void deadlineClosesWhatIsLeftAndReportsHowMany() {
    target.open = 3;
    DrainController d = controller(Duration.ofSeconds(5)).begin();
    nanos.addAndGet(Duration.ofSeconds(5).toNanos());
    scheduled.get(0).run();
    assertThat(target.closedRemaining).isTrue();
    assertThat(d.completion().toCompletableFuture())
        .isCompletedWithValue(new DrainOutcome(3, Duration.ofSeconds(5)));
  }

  @Test
  @Timeout(10)
  void deadlineClosesWithoutHoldingTheLockTheClosingConnectionsTake() throws Exception {
    // As on two event loops: the deadline runs on one and waits for a close on the other, whose
    // close listener asks the controller whether it drains (a synchronized call).
    target.open = 2;
    DrainController d = controller(Duration.ofSeconds(5)).begin();
    ExecutorService otherLoop = Executors.newSingleThreadExecutor();
    try {
      target.onCloseRemaining =
          () -> {
            Future<?> closed =
                otherLoop.submit(
                    () -> {
                      d.isDraining();
                      target.open = 0;
                      d.connectionClosed();
                    });
            try {
              closed.get(); // what ChannelGroupFuture.awaitUninterruptibly() does
            } catch (InterruptedException | ExecutionException e) {
              throw new IllegalStateException(e);
            }
          };
      nanos.addAndGet(Duration.ofSeconds(5).toNanos());
      scheduled.get(0).run();
    } finally {
      otherLoop.shutdownNow();
    }
    assertThat(d.completion().toCompletableFuture())
        .as("finished once, counting what the deadline closed")
        .isCompletedWithValue(new DrainOutcome(2, Duration.ofSeconds(5)));
  }

  @Test
  void cancelledDrainNeverCompletesAndIgnoresItsDeadline() {
    target.open = 1;
    DrainController d = controller(Duration.ofSeconds(5)).begin();
    Runnable deadline = scheduled.get(0);
    d.cancel();
    assertThat(scheduled).as("cancel disarms the deadline").isEmpty();
    deadline.run();
    target.open = 0;
    d.connectionClosed();
    assertThat(d.completion().toCompletableFuture()).isNotDone();
    assertThat(target.closedRemaining).isFalse();
  }

  @Test
  void finishingStepsRunBeforeTheCompletionCompletes() {
    target.open = 1;
    DrainController drain = controller(Duration.ofSeconds(30));
    List<String> order = new ArrayList<>();
    drain.whenFinishing(
        outcome ->
            order.add(
                "finishing step, completion done: "
                    + drain.completion().toCompletableFuture().isDone()));
    drain.completion().thenAccept(outcome -> order.add("completion"));
    drain.begin();

    target.open = 0;
    drain.connectionClosed();

    assertThat(order).containsExactly("finishing step, completion done: false", "completion");
  }

  @Test
  void progressReportsOpenConnectionsAndRequests() {
    target.open = 4;
    target.requests = 2;
    DrainController d = controller(Duration.ofSeconds(5)).begin();
    assertThat(d.progress().connectionsActive()).isEqualTo(4);
    assertThat(d.progress().requestsActive()).isEqualTo(2);
  }

  private static final class FakeTarget implements DrainTarget {
    int open;
    int requests;
    boolean announced;
    boolean closedRemaining;

    @Override
    public int openConnections() {
      return open;
    }

    @Override
    public int activeRequests() {
      return requests;
    }

    @Override
    public void announceDrain() {
      announced = true;
    }

    Runnable onCloseRemaining = () -> open = 0;

    @Override
    public int closeRemaining() {
      closedRemaining = true;
      int n = open;
      onCloseRemaining.run();
      return n;
    }
  }
}
