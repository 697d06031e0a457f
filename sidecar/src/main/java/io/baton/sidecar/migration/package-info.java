/**
 * Live connections moving between generations: {@link io.baton.sidecar.migration.ConnectionMover}
 * sends one from the outgoing process at a clean boundary, {@link
 * io.baton.sidecar.migration.ConnectionAdopter} takes one in the successor and serves it from where
 * the predecessor stopped. The protocol handlers decide when a connection is at a boundary.
 */
package io.baton.sidecar.migration;
