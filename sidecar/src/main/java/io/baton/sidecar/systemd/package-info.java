/**
 * Baton under systemd: the {@code sd_notify} protocol ({@link
 * io.baton.sidecar.systemd.SystemdNotifier}, reported from the lifecycle by {@link
 * io.baton.sidecar.systemd.SystemdStatus}) and socket activation ({@link
 * io.baton.sidecar.systemd.SocketActivation}).
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>Without {@code NOTIFY_SOCKET} nothing is sent; a failed send is logged once and never stops
 *       Baton: systemd is an observer, not a dependency.
 *   <li>Only the process that serves says {@code READY=1}, always with {@code MAINPID=} its own
 *       pid, so after a handoff systemd follows the new generation ({@code NotifyAccess=all} lets a
 *       process other than the main one say so).
 *   <li>{@code RELOADING=1} is sent by the outgoing generation once a successor was welcomed; the
 *       reload ends with the successor's {@code READY=1}, or, if the handoff fails, with the
 *       outgoing generation's own.
 *   <li>Activated fds ({@code LISTEN_FDS}) are taken only on a cold start and only when {@code
 *       LISTEN_PID} is this process; every fd taken is a configured listener or is closed.
 *       Processes Baton starts must not inherit {@code LISTEN_*} ({@link
 *       io.baton.sidecar.systemd.SocketActivation#VARIABLES_FOR_THIS_PROCESS_ONLY}).
 *   <li>junixsocket and Netty's fd calls are made in {@link io.baton.sidecar.systemd.NotifySocket}
 *       and {@link io.baton.sidecar.systemd.ListeningFds} only.
 * </ul>
 */
package io.baton.sidecar.systemd;
