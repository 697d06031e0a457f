/**
 * Upstream clusters: their members (static, or replaced at run time by discovery), the choice among
 * them (nginx's smooth weighted round robin with passive health), connecting, and the HTTP/1.1
 * keep-alive pools with their connections' pipeline ({@code Http1UpstreamInitializer}, {@code
 * Http1UpstreamHandler}) and the hop-by-hop rule ({@code HopByHop}).
 *
 * <p>Dependencies: the bottom of the proxy path. Both proxies ({@code http1}, {@code http2}) and
 * the h2c pool ({@code h2c}) import it; it imports none of them, only {@code config}, {@code
 * metrics} and {@code tls} (to originate TLS).
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>A cluster's members have distinct addresses; a member is known by its address, so a change
 *       of weight, maxFails, failTimeout or down keeps its health, its place in the rotation and
 *       its pooled connections.
 *   <li>Every choice sees one consistent member list: members and the balancer's state change under
 *       the cluster's lock, and {@code replaceMembers} takes effect for the next choice.
 *   <li>A down member is never chosen. A FAILED member is chosen only when every member that is not
 *       down (and not yet tried by the request) is FAILED.
 *   <li>A pool is touched only from its own event loop, and holds idle connections to current
 *       members only: a removed member's idle connections are closed by a task on that loop, its
 *       busy ones when they are released.
 *   <li>A request is sent to another member only when its connect failed, so nothing of it was
 *       sent; each member is tried at most once per request. {@code UpstreamChoice} keeps that
 *       record for one request, the same for HTTP/1.1, HTTP/2 and TCP.
 * </ul>
 */
package io.baton.sidecar.upstream;
