/**
 * HTTP/2 and gRPC test kit: an h2c upstream with a gRPC echo service ({@link
 * io.baton.sidecar.demo.h2.TestH2Upstream}) and a bounded HTTP/2 load client that never hides a
 * failure ({@link io.baton.sidecar.demo.h2.H2LoadClient}). Used by {@code baton test-upstream --h2c},
 * {@code baton h2-load}, the it-tests and bench/.
 *
 * <p>Invariants: the load client never retries a stream the server may have processed. It resends
 * only streams that are provably unprocessed (above a GOAWAY's last-stream-id, or reset with
 * REFUSED_STREAM, RFC 9113 §8.7), keeping their request id, and counts them apart; so the upstream
 * must see every id exactly once.
 */
package io.baton.sidecar.demo.h2;
