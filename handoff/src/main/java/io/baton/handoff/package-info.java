/**
 * Handing a Baton process's listening sockets to its successor over Unix domain sockets, then
 * draining. {@link io.baton.handoff.Handoff} is the facade; the application implements {@link
 * io.baton.handoff.HandoffSource}.
 *
 * <h2>Invariants</h2>
 *
 * <ul>
 *   <li>At most two Baton processes per run directory take part in handoffs at any time: the
 *       active one and at most one successor. A third is refused ({@code HANDOFF_IN_PROGRESS} while
 *       a handoff runs, {@code PREDECESSOR_DRAINING} while the active process's own predecessor
 *       still drains).
 *   <li>At most one of them is not ready: the successor, until it says Ready.
 *   <li>Only the active process serves {@code reconfig.sock}. A successor publishes its own socket
 *       there by one atomic rename, after the predecessor said Draining; a process that rolls back
 *       re-publishes its own the same way. A process never deletes a {@code reconfig.sock} that is
 *       not its own socket (inode check).
 *   <li>Every listener fd is held open by at least one process during a handoff: the outgoing
 *       process keeps its copies until its drain has finished, so a rollback can accept on them
 *       again.
 *   <li>Until Ready, the outgoing process changes nothing: any failure (EOF, timeout, garbage,
 *       Abort) leaves it serving as before, with {@code listen.sock} and {@code conn.sock}
 *       removed.
 *   <li>The {@code reconfig.sock} connection stays open for the whole handoff; EOF on it is how
 *       each side learns at once that the other died. Every other wait has a deadline.
 *   <li>Peers are checked by the kernel's word (SO_PEERCRED): same uid or root, and the pid from
 *       Hello where the pid is visible. The run directory is 0700 and owned by the process's uid.
 *   <li>Bad input on a control socket is answered with a typed refusal and a log line naming the
 *       socket, the peer and the phase, and changes nothing.
 *   <li>Only {@code io.baton.handoff.os} calls junixsocket; every fd handed to the application is a
 *       plain int it owns.
 * </ul>
 */
package io.baton.handoff;
