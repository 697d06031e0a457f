/**
 * TLS: listeners that terminate it, upstream connections that originate it, and the session-ticket
 * keys one generation hands to the next.
 *
 * <p>Dependencies: below the HTTP packages. It imports neither {@code http1} nor {@code http2} nor
 * {@code httpserver}; {@code upstream} uses it to originate TLS, and {@code
 * httpserver.TlsListenerInitializer} builds a TLS listener's pipeline from it and picks the HTTP
 * protocol after ALPN ({@code httpserver.AlpnSeam}).
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>A TLS connection is never moved to a successor: its keys and record state live in this
 *       process's memory (OpenSSL's), not in the socket. It is drained here: the next response says
 *       {@code Connection: close}, an idle one is closed at the drain deadline.
 *   <li>Certificates and keys are read when a generation starts; a handoff is how they are rotated.
 *   <li>Each TLS listener's ticket keys: the first encrypts new tickets, every one decrypts. A
 *       successor puts a fresh key first and keeps the predecessor's newest keys, so a client's
 *       ticket from the previous generations still resumes.
 *   <li>Key material is never logged and never leaves the process except over the handoff's
 *       listen.sock.
 * </ul>
 */
package io.baton.sidecar.tls;
