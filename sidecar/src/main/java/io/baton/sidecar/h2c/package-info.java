/**
 * The h2c upstream pool: HTTP/2 (cleartext, prior knowledge) connections to the members of an
 * {@code h2c} cluster, each carrying many streams, per cluster and event loop ({@link
 * io.baton.sidecar.h2c.H2cPool}, {@link io.baton.sidecar.h2c.H2cConnection}), and the HTTP/2 limits
 * Baton applies on both hops ({@link io.baton.sidecar.h2c.Http2Limits}).
 *
 * <p>Dependencies: the upstream side, below both proxies. It imports {@code upstream} (clusters,
 * connecting) and {@code metrics}, never {@code http1}, {@code http2} or {@code httpserver}. The
 * HTTP/2 frontend ({@code http2.H2cUpstreamCall}) opens streams with {@link
 * io.baton.sidecar.h2c.H2cPool}; the HTTP/1.1 proxy with {@link io.baton.sidecar.h2c.H2cStreams},
 * which hands it a stream to wrap in HTTP/1.1 objects.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>A pool and its connections are touched only from their event loop; nothing here locks.
 *   <li>A stream is given only to a connection that is not going away, below the member's
 *       MAX_CONCURRENT_STREAMS (and {@link
 *       io.baton.sidecar.h2c.Http2Limits#MAX_CONCURRENT_STREAMS}).
 *   <li>A failure to give a stream ({@link io.baton.sidecar.h2c.H2cStreamFailure}) always means the
 *       member never saw the request.
 * </ul>
 */
package io.baton.sidecar.h2c;
