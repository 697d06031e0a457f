/**
 * Who is on the other end of a control socket, and whether to believe it.
 *
 * <p>A peer is judged by the kernel's word (SO_PEERCRED: its uid, and its pid where this process
 * can see it) against what it says of itself in Hello or Welcome ({@link
 * io.baton.handoff.peer.ProcessIdentity}). Pids are compared only within one pid namespace: in a
 * pod every container's process may be pid 1, and a process in a parent namespace sees its peer
 * under another number than the peer's own getpid(). Nothing in the run directory is named or
 * judged by pid; files that belong to one process carry its {@link
 * io.baton.handoff.peer.ProcessIdentity#instanceId() instance id}, random and never reused.
 */
package io.baton.handoff.peer;
