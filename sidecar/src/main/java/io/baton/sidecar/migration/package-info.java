/**
 * Live connections moving between generations: {@link io.baton.sidecar.migration.ConnectionMover}
 * sends one from the outgoing process at a clean boundary, {@link
 * io.baton.sidecar.migration.ConnectionAdopter} takes one in the successor and hands it to the
 * {@link io.baton.sidecar.migration.ConnectionResumer} of its {@link
 * io.baton.sidecar.migration.MovableKind}, which serves it from where the predecessor stopped.
 *
 * <p>Dependencies: this package knows no protocol and no listener. Each protocol that moves
 * connections ({@code http1}, {@code tcp}) decides when a connection is at a boundary, declares its
 * kind and implements its resumer; the server registers the resumers. So the arrows point one way:
 * protocols → {@code listener} → {@code drain} → {@code migration}.
 */
package io.baton.sidecar.migration;
