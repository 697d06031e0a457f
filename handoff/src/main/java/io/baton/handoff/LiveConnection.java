package io.baton.handoff;

import java.util.Arrays;

/**
 * A live connection that moves to the successor.
 *
 * <p>Sending ({@link ConnectionSink#send}): the fds stay the caller's until the returned future
 * completes; then the successor holds its own copies and the caller closes its fds (without
 * shutting the sockets down). Arriving ({@link ConnectionArrivals#arrived}): the fds are the
 * receiver's own, to register or close.
 *
 * @param listener the name of the listener that accepted the connection
 * @param fds the client's fd; for {@link ConnectionKind#TCP_PAIR} then the upstream's
 * @param unconsumed bytes read from the client and not served yet (pipelined requests), to be
 *     served first, in order
 * @param upstreamEndpoint for {@link ConnectionKind#TCP_PAIR}, the {@code host:port} the upstream
 *     fd is connected to; empty otherwise
 */
public record LiveConnection(
    String listener, ConnectionKind kind, int[] fds, byte[] unconsumed, String upstreamEndpoint) {

  /** Bytes of pipelined requests that may travel with one connection. */
  public static final int MAX_UNCONSUMED_BYTES = 512 * 1024;

  public LiveConnection {
    if (fds.length != kind.fdCount()) {
      throw new IllegalArgumentException(
          "LiveConnection.fds: "
              + fds.length
              + " fd(s) (expected "
              + kind.fdCount()
              + " for "
              + kind
              + ")");
    }
    if (unconsumed.length > MAX_UNCONSUMED_BYTES) {
      throw new IllegalArgumentException(
          "LiveConnection.unconsumed: "
              + unconsumed.length
              + " bytes (expected at most "
              + MAX_UNCONSUMED_BYTES
              + ")");
    }
    fds = fds.clone();
    upstreamEndpoint = upstreamEndpoint == null ? "" : upstreamEndpoint;
  }

  @Override
  public int[] fds() {
    return fds.clone();
  }

  @Override
  public String toString() {
    return kind
        + " connection of listener "
        + listener
        + " (fds "
        + Arrays.toString(fds)
        + ", "
        + unconsumed.length
        + " unconsumed bytes"
        + (upstreamEndpoint.isEmpty() ? "" : ", upstream " + upstreamEndpoint)
        + ")";
  }
}
