/**
 * The admin API on {@code runDir/admin.sock}: gRPC ({@code baton.admin.v1.BatonAdmin}) over Netty's
 * epoll Unix domain sockets, and its client for the {@code baton} CLI.
 *
 * <p>Invariants: {@code admin.sock} names the active process's socket (published by rename when a
 * process becomes active, as {@code reconfig.sock} is); every connection's peer is checked with
 * SO_PEERCRED (own uid or root) before gRPC sees it; a process removes the name only while it still
 * means its own socket.
 */
package io.baton.sidecar.adminrpc;
