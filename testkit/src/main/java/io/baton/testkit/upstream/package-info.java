/**
 * Test upstreams on loopback, each on its own Netty event loop: {@link
 * io.baton.testkit.upstream.TestUpstream} (HTTP/1.1: /load/ID records every request id it saw,
 * /echo, /bytes/N, /delay/MS, /status/CODE), {@link io.baton.testkit.upstream.TestH2Upstream} (h2c
 * with prior knowledge, and the gRPC service baton.testing.v1.Echo) and {@link
 * io.baton.testkit.upstream.TcpEchoUpstream}. {@code baton test-upstream}, the demo, the unit and
 * process tests and bench/ put traffic through Baton to them.
 *
 * <p>Invariant: an upstream counts what arrived, so a test can prove that every request id arrived
 * exactly once across handoffs.
 */
package io.baton.testkit.upstream;
