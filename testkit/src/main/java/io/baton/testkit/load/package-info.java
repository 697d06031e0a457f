/**
 * Bounded load clients that never hide a failure: {@link io.baton.testkit.load.LoadClient}
 * (HTTP/1.1, keep-alive or a connection per request) and {@link io.baton.testkit.load.H2LoadClient}
 * (h2c, {@code baton h2-load}), with their results. Used by the demo, the process tests and bench/.
 *
 * <p>Invariants: every request carries an id the upstream records. The HTTP/2 client never retries
 * a stream the server may have processed. It resends only streams that are provably unprocessed
 * (above a GOAWAY's last-stream-id, or reset with REFUSED_STREAM, RFC 9113 §8.7), keeping their
 * request id, and counts them apart; so the upstream must see every id exactly once.
 */
package io.baton.testkit.load;
