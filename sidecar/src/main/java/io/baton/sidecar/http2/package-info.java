/**
 * HTTP/2 through Baton: the server side of client connections (h2c with prior knowledge, or TLS
 * with ALPN {@code h2} through {@link io.baton.sidecar.http2.Http2Frontend#install}), each stream
 * proxied to an {@code h2c} or {@code http1} cluster, and the two-phase GOAWAY drain.
 *
 * <p>Dependencies: a sibling of {@code http1}; neither imports the other. {@code httpserver}
 * (cleartext sniffing, TLS ALPN) installs this package's frontend through {@link
 * io.baton.sidecar.http2.Http2Frontend#install}. It imports {@code h2c} (the h2c pool, the limits
 * shared by both hops) and {@code upstream} (clusters, the HTTP/1.1 upstream connection and
 * hop-by-hop rule for {@code http1} clusters), and {@code listener}.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>A client connection, its streams and their upstream connections share one event loop;
 *       nothing here locks. The h2c upstream pool is per event loop, like the HTTP/1.1 one.
 *   <li>An HTTP/2 connection never moves to the successor: it is drained here. It counts as one
 *       open connection of its listener until it closes; each stream counts as one request in
 *       flight ({@code protocol="h2"}) from its HEADERS until its response ended or it was reset.
 *   <li>Baton never resets a stream it accepted because of a drain: after the final GOAWAY the
 *       connection waits for its last stream. Streams above that GOAWAY's last stream id are
 *       refused by Netty with REFUSED_STREAM before they reach a proxy.
 *   <li>Every stream that reached a proxy gets an answer: the upstream's response, a 5xx, or a gRPC
 *       trailers-only status; a reset only when the upstream failed after the response started (and
 *       the call is not gRPC), the client reset it, or the client broke the protocol on it.
 *   <li>A client's protocol violation gets the answer RFC 9113 names, never CANCEL: GOAWAY with the
 *       connection error's code, or RST_STREAM with the stream error's code; each is logged naming
 *       the peer and counted in {@code baton.http2.protocol.errors}. A malformed request (a
 *       required pseudo-header missing, a content-length the DATA does not match) never reaches the
 *       upstream whole.
 *   <li>A request is sent again only when the upstream cannot have processed it (connect failed,
 *       REFUSED_STREAM, above its GOAWAY) and all of it that was sent is still kept (64 KiB).
 * </ul>
 */
package io.baton.sidecar.http2;
