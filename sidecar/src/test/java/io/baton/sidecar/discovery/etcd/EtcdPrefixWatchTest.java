package io.baton.sidecar.discovery.etcd;

import static io.baton.sidecar.discovery.etcd.RecordingListener.UNAVAILABLE;
import static io.baton.sidecar.discovery.etcd.RecordingListener.changed;
import static io.baton.sidecar.discovery.etcd.RecordingListener.connected;
import static io.baton.sidecar.discovery.etcd.RecordingListener.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.testsupport.EtcdProcess;
import io.baton.sidecar.testsupport.EtcdProcesses;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * EtcdPrefixWatch against a real etcd (EtcdProcess): what the listener hears, exactly, in order.
 */
@Timeout(60)
class EtcdPrefixWatchTest {

  private static final String PREFIX = "/svc/";
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension final EtcdProcesses etcds = new EtcdProcesses();

  private final RecordingListener listener = new RecordingListener();

  @Test
  void snapshotThenChangesAreDeliveredInOrder() throws Exception {
    EtcdProcess etcd = etcds.start();
    long a = etcd.put("/svc/a", "1");
    long b = etcd.put("/svc/b", "2");
    // Just outside [/svc/, /svc0): never seen.
    etcd.put("/svc0", "x");
    long before = etcd.put("/sv", "y");

    try (EtcdPrefixWatch watch = start(List.of(etcd.endpoint()), OptionalLong.empty())) {
      watch.firstSync().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await().atMost(WAIT).until(() -> listener.calls().size() == 2);
      assertThat(listener.calls())
          .containsExactly(
              snapshot(before, "/svc/a=1@" + a, "/svc/b=2@" + b), connected(etcd.endpoint()));

      long c = etcd.put("/svc/c", "3");
      long deleteA = etcd.delete("/svc/a");
      etcd.put("/other/x", "9");
      long b2 = etcd.put("/svc/b", "22");

      await().atMost(WAIT).until(() -> listener.calls().size() == 5);
      assertThat(listener.calls())
          .containsExactly(
              snapshot(before, "/svc/a=1@" + a, "/svc/b=2@" + b),
              connected(etcd.endpoint()),
              changed(c, "PUT /svc/c=3@" + c),
              changed(deleteA, "DELETE /svc/a@" + deleteA),
              changed(b2, "PUT /svc/b=22@" + b2));
    }
    assertThat(listener.threads())
        .as("every call on the watch's own thread")
        .containsExactly("baton-etcd-" + PREFIX);
    assertThat(listener.overlapped()).as("no two calls at once").isFalse();
  }

  @Test
  void resumingFromARevisionReplaysWhatChangedSinceWithoutARange() throws Exception {
    EtcdProcess etcd = etcds.start();
    etcd.put("/svc/a", "1");
    long resumeAt = etcd.put("/svc/b", "2");
    long c = etcd.put("/svc/c", "3");
    long deleteA = etcd.delete("/svc/a");
    etcd.put("/other/x", "9");

    try (EtcdPrefixWatch watch = start(List.of(etcd.endpoint()), OptionalLong.of(resumeAt))) {
      watch.firstSync().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await().atMost(WAIT).until(() -> listener.calls().size() == 2);
      // No snapshot: the successor already has the prefix as of resumeAt; etcd replays the rest in
      // one catch-up response.
      assertThat(listener.calls())
          .containsExactly(
              connected(etcd.endpoint()),
              changed(deleteA, "PUT /svc/c=3@" + c, "DELETE /svc/a@" + deleteA));

      long d = etcd.put("/svc/d", "4");
      await().atMost(WAIT).until(() -> listener.calls().size() == 3);
      assertThat(listener.calls()).last().isEqualTo(changed(d, "PUT /svc/d=4@" + d));
    }
  }

  @Test
  void watchSurvivesEtcdRestartAndSeesChangesMadeWhileItWasDown() throws Exception {
    EtcdProcess etcd = etcds.start();
    long a = etcd.put("/svc/a", "1");
    HostPort endpoint = etcd.endpoint();

    try (EtcdPrefixWatch watch = start(List.of(endpoint), OptionalLong.empty())) {
      await().atMost(WAIT).until(() -> listener.calls().size() == 2);
      assertThat(listener.calls())
          .containsExactly(snapshot(a, "/svc/a=1@" + a), connected(endpoint));
      long attemptsBefore = watch.attempts();

      etcd.stop();
      // Several failed attempts, so that "once per outage" is tested, not just "once".
      await().atMost(WAIT).until(() -> watch.attempts() >= attemptsBefore + 3);
      assertThat(listener.calls())
          .containsExactly(snapshot(a, "/svc/a=1@" + a), connected(endpoint), UNAVAILABLE);
      assertThat(listener.unavailableReasons())
          .singleElement()
          .asString()
          .contains(endpoint.toString());

      // etcd back on another client port: for the watcher, which dials the old one, these changes
      // happen while etcd is away.
      etcd.restart(EtcdProcess.freePort());
      long b = etcd.put("/svc/b", "2");
      long deleteA = etcd.delete("/svc/a");
      etcd.stop();
      etcd.restart(endpoint.port());

      await().atMost(WAIT).until(() -> listener.calls().size() == 5);
      assertThat(listener.calls())
          .containsExactly(
              snapshot(a, "/svc/a=1@" + a),
              connected(endpoint),
              UNAVAILABLE,
              connected(endpoint),
              changed(deleteA, "PUT /svc/b=2@" + b, "DELETE /svc/a@" + deleteA));

      long c = etcd.put("/svc/c", "3");
      await().atMost(WAIT).until(() -> listener.calls().size() == 6);
      assertThat(listener.calls()).last().isEqualTo(changed(c, "PUT /svc/c=3@" + c));
    }
  }

  @Test
  void compactionBeyondTheResumeRevisionFallsBackToAFreshSnapshot() throws Exception {
    EtcdProcess etcd = etcds.start();
    etcd.put("/svc/a", "1");
    long b = etcd.put("/svc/b", "2");
    long c = etcd.put("/svc/c", "3");
    long deleteA = etcd.delete("/svc/a");
    etcd.compact(deleteA);

    try (EtcdPrefixWatch watch = start(List.of(etcd.endpoint()), OptionalLong.of(b))) {
      await().atMost(WAIT).until(() -> listener.calls().size() == 2);
      // etcd accepts the watch, then cancels it (history from b+1 on is gone): the prefix is read
      // again, on the same connection, so no unavailable/connected in between.
      assertThat(listener.calls())
          .containsExactly(
              connected(etcd.endpoint()), snapshot(deleteA, "/svc/b=2@" + b, "/svc/c=3@" + c));

      long d = etcd.put("/svc/d", "4");
      await().atMost(WAIT).until(() -> listener.calls().size() == 3);
      assertThat(listener.calls()).last().isEqualTo(changed(d, "PUT /svc/d=4@" + d));
      assertThat(watch.attempts()).isEqualTo(1);
    }
  }

  @Test
  void aResumeRevisionAheadOfEtcdFallsBackToAFreshSnapshot() throws Exception {
    // What a successor sees when etcd was restored from a backup after its predecessor's last
    // change.
    EtcdProcess etcd = etcds.start();
    long a = etcd.put("/svc/a", "1");

    try (EtcdPrefixWatch watch = start(List.of(etcd.endpoint()), OptionalLong.of(a + 100))) {
      watch.firstSync().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await().atMost(WAIT).until(() -> listener.calls().size() == 2);
      assertThat(listener.calls())
          .containsExactly(snapshot(a, "/svc/a=1@" + a), connected(etcd.endpoint()));

      long b = etcd.put("/svc/b", "2");
      await().atMost(WAIT).until(() -> listener.calls().size() == 3);
      assertThat(listener.calls()).last().isEqualTo(changed(b, "PUT /svc/b=2@" + b));
    }
  }

  @Test
  void unreachableEndpointIsReportedAndRetriedUntilEtcdAppears() throws Exception {
    int port = EtcdProcess.freePort();
    HostPort dead = new HostPort("127.0.0.1", EtcdProcess.freePort());
    HostPort later = new HostPort("127.0.0.1", port);

    try (EtcdPrefixWatch watch = start(List.of(dead, later), OptionalLong.empty())) {
      await().atMost(WAIT).until(() -> watch.attempts() >= 5);
      assertThat(listener.calls()).containsExactly(UNAVAILABLE);
      assertThat(watch.firstSync()).isNotDone();

      // Written on another port first, so that the first read after etcd appears is exact.
      EtcdProcess etcd = etcds.start();
      long a = etcd.put("/svc/a", "1");
      etcd.stop();
      etcd.restart(port);

      watch.firstSync().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await().atMost(WAIT).until(() -> listener.calls().size() == 3);
      assertThat(listener.calls())
          .containsExactly(UNAVAILABLE, snapshot(a, "/svc/a=1@" + a), connected(later));
    }
  }

  @Test
  void aDeadEndpointIsSkippedWithoutReportingAnOutage() throws Exception {
    EtcdProcess etcd = etcds.start();
    long a = etcd.put("/svc/a", "1");
    HostPort dead = new HostPort("127.0.0.1", EtcdProcess.freePort());

    try (EtcdPrefixWatch watch = start(List.of(dead, etcd.endpoint()), OptionalLong.empty())) {
      watch.firstSync().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      await().atMost(WAIT).until(() -> listener.calls().size() == 2);
      assertThat(listener.calls())
          .containsExactly(snapshot(a, "/svc/a=1@" + a), connected(etcd.endpoint()));
      assertThat(watch.attempts()).isEqualTo(2);
    }
  }

  @Test
  void closeStopsTheThreadAndChannels() throws Exception {
    EtcdProcess etcd = etcds.start();
    EtcdPrefixWatch watch = start(List.of(etcd.endpoint()), OptionalLong.empty());
    await().atMost(WAIT).until(() -> listener.calls().size() == 2);
    await().atMost(WAIT).until(() -> etcd.watchStreams() == 1);

    assertTimeoutPreemptively(Duration.ofSeconds(5), watch::close);

    assertThat(watch.isTerminated()).isTrue();
    assertThat(watchThreads()).isEmpty();
    // etcd sees the stream cancelled, not left to time out.
    await().atMost(WAIT).until(() -> etcd.watchStreams() == 0);
    etcd.put("/svc/after-close", "x");
    assertThat(listener.calls()).hasSize(2);
  }

  @Test
  void closeDuringBackoffEndsTheWaitForTheFirstSync() {
    HostPort dead = new HostPort("127.0.0.1", EtcdProcess.freePort());
    EtcdPrefixWatch watch = start(List.of(dead), OptionalLong.empty());
    await().atMost(WAIT).until(() -> watch.attempts() >= 3);

    assertTimeoutPreemptively(Duration.ofSeconds(5), watch::close);

    assertThat(watch.isTerminated()).isTrue();
    assertThat(watchThreads()).isEmpty();
    assertThatThrownBy(() -> watch.firstSync().get(1, TimeUnit.SECONDS))
        .isInstanceOf(CancellationException.class)
        .hasMessageContaining("etcd watch of prefix /svc/ closed");
    assertThat(listener.calls()).containsExactly(UNAVAILABLE);
  }

  @Test
  void badArgumentsAreNamedWithTheExpectedForm() {
    List<HostPort> one = List.of(new HostPort("127.0.0.1", 2379));
    assertThatThrownBy(
            () ->
                EtcdPrefixWatch.start(
                    List.of(), PREFIX, REQUEST_TIMEOUT, OptionalLong.empty(), listener))
        .hasMessage("endpoints: [] (expected: at least one etcd host:port)");
    assertThatThrownBy(
            () -> EtcdPrefixWatch.start(one, PREFIX, Duration.ZERO, OptionalLong.empty(), listener))
        .hasMessage("requestTimeout: PT0S (expected: > 0)");
    assertThatThrownBy(
            () -> EtcdPrefixWatch.start(one, PREFIX, REQUEST_TIMEOUT, OptionalLong.of(0), listener))
        .hasMessage("resumeRevision: 0 (expected: >= 1, a revision an earlier watch delivered)");
    assertThatThrownBy(
            () -> EtcdPrefixWatch.start(one, "", REQUEST_TIMEOUT, OptionalLong.empty(), listener))
        .hasMessageStartingWith("prefix: \"\" (expected: ");
  }

  private EtcdPrefixWatch start(List<HostPort> endpoints, OptionalLong resumeRevision) {
    return EtcdPrefixWatch.start(endpoints, PREFIX, REQUEST_TIMEOUT, resumeRevision, listener);
  }

  private static List<String> watchThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("baton-etcd-"))
        .toList();
  }
}
