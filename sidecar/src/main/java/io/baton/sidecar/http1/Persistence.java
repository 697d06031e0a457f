package io.baton.sidecar.http1;

import java.util.function.BooleanSupplier;

/**
 * Whether one HTTP/1.1 client connection outlives its current response, and where: the keep-alive
 * decisions of the connection, apart from the I/O that carries them out.
 */
enum Persistence {
  KEEP_ALIVE,
  /** The process drains and the successor takes connections: move at the next request boundary. */
  MOVE_AT_BOUNDARY,
  /** The process drains: the next response that can say so carries {@code Connection: close}. */
  CLOSE_AFTER_RESPONSE;

  /**
   * Whether the response to a request must say {@code Connection: close}.
   *
   * @param clientKeepAlive whether the client asked to keep the connection
   * @param requestComplete whether the whole request was read (else its rest would be read as a
   *     next request)
   * @param pipelinedBytesWaiting whether bytes of a next request are read already; asked only while
   *     draining here
   */
  boolean closesAfterResponse(
      boolean clientKeepAlive, boolean requestComplete, BooleanSupplier pipelinedBytesWaiting) {
    // Draining without a successor to move to: requests already read are still answered; the
    // last of them says close.
    return !clientKeepAlive
        || !requestComplete
        || (this == CLOSE_AFTER_RESPONSE && !pipelinedBytesWaiting.getAsBoolean());
  }

  /**
   * What this becomes when the successor did not take the connection: it drains here, unless the
   * drain was rolled back meanwhile.
   */
  Persistence withoutMove() {
    return this == KEEP_ALIVE ? KEEP_ALIVE : CLOSE_AFTER_RESPONSE;
  }
}
