/**
 * The server side of an {@code http} listener's client connection before it is HTTP/1.1 or HTTP/2:
 * the choice of protocol. Cleartext: {@link io.baton.sidecar.httpserver.PriorKnowledgeSniffer}
 * reads the first bytes (prior-knowledge preface or not). TLS: the handshake, then {@link
 * io.baton.sidecar.httpserver.AlpnSeam} installs what ALPN chose.
 *
 * <p>Dependencies: this package sits above both protocols and imports {@code http1} and {@code
 * http2} (their pipelines' entry points only: {@code Http1ProxyInitializer}, {@code
 * Http2Frontend#install}) and {@code tls} (the handshake observer, ALPN's protocol list). Nothing
 * below imports it; {@code server} (and the tests' {@code ProxyUnderTest}) build listeners with its
 * initializers.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>Each connection gets exactly one protocol pipeline, chosen once; every byte read before the
 *       choice goes to it.
 *   <li>A TLS connection is never moved to a successor, whichever protocol ALPN chose.
 * </ul>
 */
package io.baton.sidecar.httpserver;
