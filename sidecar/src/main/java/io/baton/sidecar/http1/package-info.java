/**
 * HTTP/1.1 through Baton: the server side of client connections ({@link
 * io.baton.sidecar.http1.Http1ProxyInitializer}), their exchanges with upstream members over
 * HTTP/1.1 keep-alive connections or h2c streams, the hop-by-hop rule, and the
 * {@code Connection: close} drain and move of idle connections to the successor.
 *
 * <p>Dependencies: it imports {@code upstream} (clusters, pools, connecting), {@code h2c} (streams
 * to h2c clusters, through {@link io.baton.sidecar.h2c.H2cStreams}) and {@code migration}, and
 * never {@code http2} or {@code httpserver}. {@code http2} imports its upstream side
 * ({@code Http1UpstreamInitializer}, {@code Http1UpstreamHandler}, {@code HopByHop}) to reach
 * {@code http1} clusters, so the direction is http2 -> http1; {@code httpserver} and
 * {@code migration.ConnectionAdopter} install its server pipeline (http1 and migration still
 * import each other: a known cycle outside the HTTP packages).
 */
package io.baton.sidecar.http1;
