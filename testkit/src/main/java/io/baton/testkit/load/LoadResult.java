package io.baton.testkit.load;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a {@link LoadClient} observed. Every request attempted is counted exactly once, in {@code
 * ok}, {@code failedStatus} or {@code failedIo}; nothing is retried.
 *
 * @param attempted requests started (each with a unique id)
 * @param ok 2xx responses read completely
 * @param failedStatus non-2xx responses
 * @param failedIo connect refused or reset, EOF before a complete response, read timeout, ...
 * @param connectionCloseResponses responses that carried {@code Connection: close}
 * @param connectionsOpened TCP connections opened (successfully connected)
 * @param perGeneration responses per value of the {@code X-Baton-Generation} response header
 * @param firstErrors the text of the first (up to 10) I/O failures
 * @param elapsed wall time from start to the end (or to the snapshot)
 * @param finished whether the run had ended when this was taken
 */
public record LoadResult(
    long attempted,
    long ok,
    long failedStatus,
    long failedIo,
    long connectionCloseResponses,
    long connectionsOpened,
    Map<String, Long> perGeneration,
    List<String> firstErrors,
    Duration elapsed,
    boolean finished) {

  public LoadResult {
    perGeneration = Map.copyOf(perGeneration);
    firstErrors = List.copyOf(firstErrors);
  }

  /** Failed requests: {@code failedStatus + failedIo}. */
  public long failed() {
    return failedStatus + failedIo;
  }

  /** Responses served by generation {@code generation} (per {@code X-Baton-Generation}). */
  public long servedBy(long generation) {
    return perGeneration.getOrDefault(Long.toString(generation), 0L);
  }

  /** Requests per second over {@link #elapsed()}. */
  public double requestsPerSecond() {
    long ms = Math.max(1, elapsed.toMillis());
    return attempted * 1000.0 / ms;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            "attempted=%d ok=%d failed=%d (status=%d, io=%d) connection-close=%d connections=%d"
                + " elapsed=%dms rate=%.0f/s%s",
            attempted,
            ok,
            failed(),
            failedStatus,
            failedIo,
            connectionCloseResponses,
            connectionsOpened,
            elapsed.toMillis(),
            requestsPerSecond(),
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
