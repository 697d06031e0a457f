package io.baton.testkit.load;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an {@link H2LoadClient} observed. Every request id ends exactly once as completed or as one
 * kind of failure; a refused stream is not an end (it is sent again with its id), refusals are
 * counted apart as events.
 *
 * @param attempted request ids started (each unique; resends keep theirs)
 * @param completed 2xx responses read to the end of the stream
 * @param failedStatus non-2xx responses
 * @param failedReset streams the server reset with a code other than REFUSED_STREAM after accepting
 *     them
 * @param failedConnectionLost streams the server may have processed (no GOAWAY excluded them) on a
 *     connection that ended
 * @param failedTimeout streams without an end within the stream timeout (the client cancelled them)
 * @param refusedAboveGoaway streams above a GOAWAY's last-stream-id: never processed, sent again
 * @param refusedStream streams reset with REFUSED_STREAM: never processed, sent again
 * @param connectionsOpened HTTP/2 connections connected
 * @param connectFailures connection attempts that failed (no request was on them)
 * @param goawaysReceived GOAWAY frames received
 * @param perGeneration responses per value of the {@code x-baton-generation} response header
 * @param firstErrors the text of the first (up to 10) failures
 * @param elapsed wall time from start to the end (or to the snapshot)
 * @param finished whether the run had ended when this was taken
 */
public record H2LoadResult(
    long attempted,
    long completed,
    long failedStatus,
    long failedReset,
    long failedConnectionLost,
    long failedTimeout,
    long refusedAboveGoaway,
    long refusedStream,
    long connectionsOpened,
    long connectFailures,
    long goawaysReceived,
    Map<String, Long> perGeneration,
    List<String> firstErrors,
    Duration elapsed,
    boolean finished) {

  public H2LoadResult {
    perGeneration = Map.copyOf(perGeneration);
    firstErrors = List.copyOf(firstErrors);
  }

  /** Streams that failed after the server may have accepted them. */
  public long failed() {
    return failedStatus + failedReset + failedConnectionLost + failedTimeout;
  }

  /** Streams refused (never processed) and sent again. */
  public long refused() {
    return refusedAboveGoaway + refusedStream;
  }

  /** Completed requests per second over {@link #elapsed()}. */
  public double completedPerSecond() {
    return completed * 1000.0 / Math.max(1, elapsed.toMillis());
  }

  @Override
  public String toString() {
    StringBuilder b =
        new StringBuilder(
            String.format(
                "attempted=%d completed=%d failed=%d (status=%d, reset=%d, connection-lost=%d,"
                    + " timeout=%d) refused=%d (above-goaway=%d, refused-stream=%d) connections=%d"
                    + " connect-failures=%d goaways=%d elapsed=%dms rate=%.0f/s%s",
                attempted,
                completed,
                failed(),
                failedStatus,
                failedReset,
                failedConnectionLost,
                failedTimeout,
                refused(),
                refusedAboveGoaway,
                refusedStream,
                connectionsOpened,
                connectFailures,
                goawaysReceived,
                elapsed.toMillis(),
                completedPerSecond(),
                finished ? "" : " (running)"));
    if (!perGeneration.isEmpty()) {
      b.append(" per-generation=").append(new TreeMap<>(perGeneration));
    }
    for (String e : firstErrors) {
      b.append("\n  error: ").append(e);
    }
    return b.toString();
  }
}
