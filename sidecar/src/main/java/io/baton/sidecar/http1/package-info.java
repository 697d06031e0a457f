/**
 * HTTP/1.1 through Baton: the server side of client connections ({@link
 * io.baton.sidecar.http1.Http1ProxyInitializer}), each exchange proxied over an HTTP/1.1 keep-alive
 * connection or an h2c stream, the {@code Connection: close} drain and the move of idle connections
 * to the successor.
 *
 * <p>Dependencies: a sibling of {@code http2}; neither imports the other. It imports {@code
 * upstream} (clusters, pools, connecting, the HTTP/1.1 upstream connection, the hop-by-hop rule),
 * {@code h2c} (streams to h2c clusters, through {@link io.baton.sidecar.h2c.H2cStreams}), {@code
 * listener} and {@code migration}. {@code httpserver} (cleartext sniffing, TLS ALPN) and {@link
 * io.baton.sidecar.http1.MovedHttp1Connection} (a connection the predecessor moved here, registered
 * with {@code migration.ConnectionAdopter} by the server) install its pipeline; {@code migration}
 * never imports it.
 */
package io.baton.sidecar.http1;
