package io.baton.sidecar.discovery.etcd;

import io.baton.sidecar.config.HostPort;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows every key under one etcd v3 prefix: a Range for the current keys, then a watch for each
 * change after them, reconnecting (endpoints in turn, exponential backoff) and resuming from the
 * last revision it delivered whenever etcd fails, and reading the prefix afresh when etcd has
 * compacted the history it needs.
 *
 * <p>Everything happens on the watch's own thread ({@code baton-etcd-<prefix>}), including every
 * {@link EtcdPrefixListener} call, so the listener sees one call at a time, in order.
 *
 * <p>The revision the listener was last given is the resume point: a process that takes over
 * (handoff) passes it to {@link #start} and continues with the changes after it, without a Range.
 */
public final class EtcdPrefixWatch implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EtcdPrefixWatch.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final List<HostPort> endpoints;
  private final String prefix;
  private final EtcdKeyRange range;
  private final Duration requestTimeout;
  private final EtcdPrefixListener listener;
  private final EtcdWatchThread watchThread;
  private final EtcdChannels channels;
  private final EtcdReconnectBackoff backoff =
      new EtcdReconnectBackoff(
          EtcdReconnectBackoff.INITIAL,
          EtcdReconnectBackoff.MAX,
          () -> ThreadLocalRandom.current().nextDouble());
  private final CompletableFuture<Void> firstSync = new CompletableFuture<>();
  private final AtomicLong attempts = new AtomicLong();
  private volatile boolean closed;

  // Confined to the watch's thread.
  /**
   * The listener's view of the prefix is complete up to this revision; the watch goes on after it.
   */
  private long revision;

  private boolean snapshotNeeded;
  private int nextEndpoint;
  private EtcdSession session;
  private boolean sessionAnnounced;
  private ScheduledFuture<?> retry;
  private int failuresSinceConnected;
  private boolean outageReported;

  private EtcdPrefixWatch(
      List<HostPort> endpoints,
      String prefix,
      Duration requestTimeout,
      OptionalLong resumeRevision,
      EtcdPrefixListener listener) {
    this.endpoints = List.copyOf(endpoints);
    this.prefix = prefix;
    this.range = EtcdKeyRange.forPrefix(prefix);
    this.requestTimeout = requestTimeout;
    this.listener = listener;
    this.revision = resumeRevision.orElse(0);
    this.snapshotNeeded = resumeRevision.isEmpty();
    this.watchThread = new EtcdWatchThread("baton-etcd-" + prefix);
    this.channels = new EtcdChannels("baton-etcd-io-" + prefix, requestTimeout);
  }

  /**
   * Starts following {@code prefix}; returns at once (the first attempt runs on the watch's
   * thread).
   *
   * @param endpoints etcd client endpoints (plain-text gRPC), tried in turn
   * @param requestTimeout the deadline of each Range, of each watch's creation, and of a keep-alive
   *     ping on an open watch
   * @param resumeRevision empty: read the prefix first (a snapshot), then watch; a revision R: the
   *     caller already knows the prefix as of R (the revision a previous listener was last given),
   *     so watch from R+1 without reading the prefix
   */
  public static EtcdPrefixWatch start(
      List<HostPort> endpoints,
      String prefix,
      Duration requestTimeout,
      OptionalLong resumeRevision,
      EtcdPrefixListener listener) {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("endpoints: [] (expected: at least one etcd host:port)");
    }
    if (requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw new IllegalArgumentException("requestTimeout: " + requestTimeout + " (expected: > 0)");
    }
    if (resumeRevision.isPresent() && resumeRevision.getAsLong() < 1) {
      throw new IllegalArgumentException(
          "resumeRevision: "
              + resumeRevision.getAsLong()
              + " (expected: >= 1, a revision an earlier watch delivered)");
    }
    EtcdPrefixWatch watch =
        new EtcdPrefixWatch(endpoints, prefix, requestTimeout, resumeRevision, listener);
    watch.watchThread.execute(watch::attempt);
    return watch;
  }

  /**
   * Completes when the listener first has the prefix: after the first snapshot or, when resuming,
   * once etcd accepted the watch from the resume revision (the changes since then follow as {@link
   * EtcdPrefixListener#changed}, or a snapshot if etcd has compacted them). When etcd is behind the
   * resume revision, it completes after the snapshot that replaces the view. A cold start waits on
   * it with its own timeout and may use a dump meanwhile; the watch keeps trying either way.
   * Completes exceptionally ({@link CancellationException}) if the watch is closed first.
   * Dependents added without an executor run on the watch's thread.
   */
  public CompletableFuture<Void> firstSync() {
    return firstSync;
  }

  public String prefix() {
    return prefix;
  }

  /** Connection attempts so far, the first one included. */
  long attempts() {
    return attempts.get();
  }

  private void attempt() {
    if (closed) {
      return;
    }
    retry = null;
    HostPort endpoint = endpoints.get(nextEndpoint);
    nextEndpoint = (nextEndpoint + 1) % endpoints.size();
    long n = attempts.incrementAndGet();
    SessionHandler handler = new SessionHandler();
    try {
      EtcdSession current =
          new EtcdSession(
              endpoint, channels.open(endpoint), range, requestTimeout, watchThread, handler);
      session = current;
      sessionAnnounced = false;
      if (snapshotNeeded) {
        log.debug("etcd prefix {}: attempt {} on {}: reading the prefix", prefix, n, endpoint);
        current.range();
      } else {
        log.debug(
            "etcd prefix {}: attempt {} on {}: watching from revision {}",
            prefix,
            n,
            endpoint,
            revision + 1);
        current.watchFrom(revision + 1);
      }
    } catch (RuntimeException e) {
      // A task of a scheduled executor that throws vanishes silently; without a retry scheduled
      // here the watch would stop for good.
      log.error("etcd prefix {}: attempt {} on {} failed unexpectedly", prefix, n, endpoint, e);
      handler.failed(endpoint, "unexpected " + e);
    }
  }

  /** The handler of the current session; the session only reports while it is current and open. */
  private final class SessionHandler implements EtcdSession.Handler {

    @Override
    public void ranged(List<EtcdKeyValue> keys, long at) {
      if (closed) {
        return;
      }
      log.info(
          "etcd prefix {}: read {} keys at revision {} from {}",
          prefix,
          keys.size(),
          at,
          session.endpoint());
      snapshotNeeded = false;
      revision = at;
      deliver("snapshot", () -> listener.snapshot(keys, at));
      firstSync.complete(null);
      session.watchFrom(at + 1);
    }

    @Override
    public void created(long storeRevision) {
      if (closed) {
        return;
      }
      if (storeRevision < revision) {
        // etcd is behind what the listener knows: restored from a backup or replaced (a resume
        // revision carried over from the old cluster), or a member still catching up. A watch
        // from the future would sit silent until etcd gets there; read what is there now.
        log.warn(
            "etcd prefix {}: etcd on {} is at revision {}, before revision {} the listener already"
                + " has; reading the prefix again",
            prefix,
            session.endpoint(),
            storeRevision,
            revision);
        snapshotNeeded = true;
        session.range();
        return;
      }
      if (sessionAnnounced) {
        // A watch re-created on the same connection after a compaction: nothing was lost.
        log.debug(
            "etcd prefix {}: watching again on {} from revision {}",
            prefix,
            session.endpoint(),
            revision + 1);
        return;
      }
      sessionAnnounced = true;
      if (outageReported) {
        log.info(
            "etcd prefix {}: etcd available again on {} after {} failed attempts; watching from"
                + " revision {} (etcd at {})",
            prefix,
            session.endpoint(),
            failuresSinceConnected,
            revision + 1,
            storeRevision);
      } else {
        log.info(
            "etcd prefix {}: watching on {} from revision {} (etcd at {})",
            prefix,
            session.endpoint(),
            revision + 1,
            storeRevision);
      }
      failuresSinceConnected = 0;
      outageReported = false;
      backoff.reset();
      String endpoint = session.endpoint().toString();
      deliver("connected", () -> listener.connected(endpoint));
      firstSync.complete(null);
    }

    @Override
    public void changed(List<EtcdEvent> events) {
      if (closed) {
        return;
      }
      // Not the response header's revision: when etcd catches a watch up in batches it stamps
      // each batch with its current revision, though later events are still to come (mvcc's
      // syncWatchers, watchBatchMaxRevs); resuming after that header would skip them.
      long last = events.get(events.size() - 1).modRevision();
      log.debug("etcd prefix {}: {} changes up to revision {}", prefix, events.size(), last);
      revision = last;
      deliver("changed", () -> listener.changed(events, last));
    }

    @Override
    public void compacted(long compactRevision) {
      if (closed) {
        return;
      }
      log.warn(
          "etcd prefix {}: etcd on {} has compacted its history up to revision {}, past revision {}"
              + " that the watch needed; reading the prefix again",
          prefix,
          session.endpoint(),
          compactRevision,
          revision + 1);
      snapshotNeeded = true;
      session.range();
    }

    @Override
    public void failed(String reason) {
      failed(session.endpoint(), reason);
    }

    void failed(HostPort endpoint, String reason) {
      if (closed) {
        return;
      }
      if (session != null) {
        session.close();
        session = null;
      }
      failuresSinceConnected++;
      Duration delay = backoff.next();
      retry =
          watchThread.schedule(
              EtcdPrefixWatch.this::attempt, delay.toNanos(), TimeUnit.NANOSECONDS);
      // With several endpoints, one failing is not an outage yet: the next one may work.
      if (!outageReported && failuresSinceConnected >= endpoints.size()) {
        outageReported = true;
        log.warn(
            "etcd prefix {}: etcd unavailable ({} on {}); retrying {} in {} ms, then with backoff"
                + " up to {} s",
            prefix,
            reason,
            endpoint,
            endpoints.get(nextEndpoint),
            delay.toMillis(),
            EtcdReconnectBackoff.MAX.toSeconds());
        deliver("unavailable", () -> listener.unavailable(reason + " (" + endpoint + ")"));
      } else {
        log.info(
            "etcd prefix {}: {} on {}; retrying {} in {} ms (attempt {})",
            prefix,
            reason,
            endpoint,
            endpoints.get(nextEndpoint),
            delay.toMillis(),
            attempts.get() + 1);
      }
    }
  }

  private void deliver(String what, Runnable call) {
    if (closed) {
      return;
    }
    try {
      call.run();
    } catch (RuntimeException e) {
      log.error("etcd prefix {}: the listener's {} threw; the watch goes on", prefix, what, e);
    }
  }

  /**
   * Stops the watch: no listener call starts after this returns, the streams are cancelled, the
   * channels shut down, and the watch's threads end. Called from a listener method, it returns
   * before the watch's thread has ended (that thread is the caller), which it does right after.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      watchThread.execute(this::stopOnWatchThread);
    } catch (RejectedExecutionException e) {
      // Already shut down.
    }
    watchThread.shutdown();
    boolean onWatchThread = watchThread.isCurrent();
    try {
      if (!onWatchThread
          && !watchThread.awaitTermination(CLOSE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS)) {
        log.warn(
            "etcd prefix {}: the watch's thread did not end within {} ms (a listener call still"
                + " running?)",
            prefix,
            CLOSE_TIMEOUT.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    channels.close(CLOSE_TIMEOUT);
    firstSync.completeExceptionally(
        new CancellationException("etcd watch of prefix " + prefix + " closed"));
    log.info("etcd prefix {}: watch closed", prefix);
  }

  private void stopOnWatchThread() {
    if (retry != null) {
      retry.cancel(false);
    }
    if (session != null) {
      session.close();
      session = null;
    }
  }

  /** The channels and the event loop have ended (for tests of close). */
  boolean isTerminated() {
    return watchThread.isTerminated() && channels.isTerminated();
  }
}
