package io.baton.sidecar.http1;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where one HTTP/1.1 client connection is between and within its exchanges. Transitions other than
 * those listed are bugs and throw. The table is built once: a transition is checked for every
 * request, so checking it allocates nothing.
 */
enum ConnectionState {
  /** At a request boundary with no unsent output: nothing in flight, nothing owed. */
  IDLE,
  /** A request arrived; its upstream connection is being opened. Not reading the client. */
  CONNECTING,
  /** The request body flows to the upstream. */
  STREAMING_REQUEST,
  /** The request is sent; waiting for the response to start (the request timeout runs). */
  AWAITING_RESPONSE,
  /** The response flows to the client. */
  STREAMING_RESPONSE,
  /** The last response said {@code Connection: close}; our output is shut, waiting for EOF. */
  CLOSING,
  /** Being sent to the successor, or sent: nothing here touches the connection any more. */
  MOVING;

  private static final Map<ConnectionState, Set<ConnectionState>> NEXT = table();

  private static Map<ConnectionState, Set<ConnectionState>> table() {
    Map<ConnectionState, Set<ConnectionState>> next = new EnumMap<>(ConnectionState.class);
    // A request whose upstream is at hand (a pooled connection) skips CONNECTING; one answered by
    // Baton itself (malformed, no endpoint) goes straight to STREAMING_RESPONSE.
    next.put(
        IDLE,
        EnumSet.of(CONNECTING, STREAMING_REQUEST, AWAITING_RESPONSE, STREAMING_RESPONSE, MOVING));
    // CONNECTING again: the member was unreachable and the next one is being opened.
    next.put(
        CONNECTING,
        EnumSet.of(CONNECTING, STREAMING_REQUEST, AWAITING_RESPONSE, STREAMING_RESPONSE));
    // CLOSING: the response ended before the request did, so the connection cannot be reused.
    next.put(STREAMING_REQUEST, EnumSet.of(AWAITING_RESPONSE, STREAMING_RESPONSE, CLOSING));
    next.put(AWAITING_RESPONSE, EnumSet.of(STREAMING_RESPONSE));
    next.put(STREAMING_RESPONSE, EnumSet.of(IDLE, CLOSING));
    next.put(CLOSING, EnumSet.noneOf(ConnectionState.class));
    // IDLE: the successor did not take the connection; it is served (and drained) here.
    next.put(MOVING, EnumSet.of(IDLE));
    next.replaceAll((state, targets) -> Collections.unmodifiableSet(targets));
    return next;
  }

  /** The states this one may move to. */
  Set<ConnectionState> next() {
    return NEXT.get(this);
  }

  /**
   * Returns {@code target} if this state may move to it.
   *
   * @throws IllegalStateException if {@code target} is not a legal next state
   */
  ConnectionState moveTo(ConnectionState target) {
    if (!NEXT.get(this).contains(target)) {
      throw new IllegalStateException(
          "http/1.1 connection state: "
              + this
              + " -> "
              + target
              + " (expected one of "
              + next()
              + ")");
    }
    return target;
  }
}
