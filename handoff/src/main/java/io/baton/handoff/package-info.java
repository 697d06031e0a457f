/**
 * Handing a Baton process's listening sockets to its successor over Unix domain sockets, then
 * draining. {@link io.baton.handoff.process.Handoff} is the facade; the application implements
 * {@link io.baton.handoff.HandoffSource}.
 *
 * <p>The protocol's sequence, message by message, with the state each side is in at each step, is
 * described once: in the header of {@code handoff.proto} (proto module, {@code
 * baton/handoff/v1/handoff.proto}). Steps are named by those states ({@link
 * io.baton.handoff.incoming.IncomingState}, {@link io.baton.handoff.outgoing.SessionState}), never
 * by number. What follows are the invariants that sequence keeps.
 *
 * <h2>Public packages</h2>
 *
 * <p>An application uses two packages, and only those: this one (the vocabulary: what it
 * implements, such as {@link io.baton.handoff.HandoffSource}, and what it receives, such as {@link
 * io.baton.handoff.Arrival}) and {@code io.baton.handoff.process} (the facade). Everything else is
 * the library's own, and its packages point one way, each building only on those before it:
 *
 * <ul>
 *   <li>{@code state}: the checked transition table every state machine goes through; knows nothing
 *       else.
 *   <li>{@code os}: the private edge to the kernel (junixsocket, raw fds, SO_PEERCRED); the only
 *       package that calls junixsocket.
 *   <li>{@code wire}: framed Envelopes on a control socket (on {@code os}).
 *   <li>{@code peer}: who a peer is and whether it may talk to us (on {@code os}).
 *   <li>{@code rundir}: the run directory, its locks and socket files (on {@code os}, {@code
 *       peer}).
 *   <li>{@code migration}: live connections over {@code conn.sock} (on {@code os}, {@code wire},
 *       {@code peer}).
 *   <li>{@code incoming} and {@code outgoing}: the two sides of a handoff, on all of the above and
 *       never on each other.
 *   <li>{@code process}: the facade, the one package that sees both sides.
 * </ul>
 *
 * <p>This package depends on none of them. {@code HandoffArchitectureTest} checks all of it on
 * every build (no cycles, this order, no public member of a public package that exposes an internal
 * type, never {@code io.baton.sidecar}, junixsocket only in {@code os}).
 *
 * <h2>Invariants</h2>
 *
 * <ul>
 *   <li>Per run directory at any time: at most one active process, at most one successor taking
 *       over from it (a second is refused {@code HANDOFF_IN_PROGRESS}), and any number of older
 *       generations that drain, each bounded by its own {@code drain.timeout}. The active process
 *       hands over only while fewer than {@link io.baton.handoff.HandoffSettings#maxDraining()}
 *       older generations drain, and only if its draining predecessor speaks revision 2 (can be
 *       told HandedOn); otherwise it refuses {@code PREDECESSOR_DRAINING}.
 *   <li>At most one of them is not ready: the successor, until it says Ready.
 *   <li>The generations form a chain: each one talks only to its direct predecessor and its direct
 *       successor, over the {@code reconfig.sock} connection the successor opened. Nothing skips a
 *       generation.
 *   <li>Only the newest draining generation may roll back. Every older one was told {@code
 *       HandedOn} by its successor when that successor stopped accepting in turn (or stops for
 *       good, on SIGTERM): from then on it never accepts again, sends no more live connections, and
 *       EOF from its successor means only "drain on". A predecessor that was handed on stays so
 *       even if its successor later rolls back (it never becomes active again).
 *   <li>Progress and counters flow one hop at a time, towards the active process. Each draining
 *       generation relays its predecessors' progress in its own DrainProgress. It says
 *       DrainFinished only when its own drain has finished and its predecessor is gone (or outlived
 *       its drain deadline plus the step timeout), so the predecessor's final counters, added to
 *       its own, travel on in its DrainFinished. Every hop adds only what a counter grew by since
 *       the last report: nothing is counted twice or lost, unless a generation dies (its counts and
 *       those it had not yet passed on die with it).
 *   <li>Only the active process serves {@code reconfig.sock}. A successor publishes its own socket
 *       there by one atomic rename, after the predecessor said Draining; a process that rolls back
 *       re-publishes its own the same way. A process never deletes a {@code reconfig.sock} that is
 *       not its own socket (inode check).
 *   <li>Every listener fd is held open by at least one process during a handoff: the outgoing
 *       process keeps its copies until its drain has finished, so a rollback can accept on them
 *       again.
 *   <li>Until Ready, the outgoing process changes nothing: any failure (EOF, timeout, garbage,
 *       Abort) leaves it serving as before, with {@code listen.sock} and {@code conn.sock} removed.
 *   <li>The {@code reconfig.sock} connection stays open for the whole handoff; EOF on it is how
 *       each side learns at once that the other died. Every other wait has a deadline.
 *   <li>A message an older peer does not know is sent only to a peer that announced a {@code
 *       protocol_revision} that has it (Hello/Welcome; unset = 1). Revision 2 adds HandedOn and the
 *       relayed chain progress.
 *   <li>Peers are checked by the kernel's word (SO_PEERCRED): same uid or root, and the pid from
 *       Hello or Welcome where the peer says it lives in this process's own pid namespace ({@link
 *       io.baton.handoff.peer.PeerCheck}). The run directory is 0700 and owned by the process's
 *       uid.
 *   <li>Nothing in the run directory is named or judged by pid: in a pod every generation may be
 *       pid 1. A file that belongs to one process carries its random instance id; whether that
 *       process still lives is asked of the lock it holds on {@code instance.<id>.lock} ({@link
 *       io.baton.handoff.rundir.RunDirectory}), which holds across pid, mount and user namespaces.
 *   <li>Bad input on a control socket is answered with a typed refusal and a log line naming the
 *       socket, the peer and the phase, and changes nothing.
 *   <li>Only {@code io.baton.handoff.os} calls junixsocket; every fd handed to the application is a
 *       plain int it owns.
 * </ul>
 *
 * <h2>Design notes: handing off during a drain</h2>
 *
 * <p>Why a chain and not a star (every draining generation reporting to the active one): the only
 * connection a draining generation has is the one its successor opened to its {@code
 * reconfig.sock}; EOF on it is already the failure signal. Keeping that one link, and having each
 * generation wait for its predecessor before saying DrainFinished, needs no new socket, no new peer
 * check and no reconnect, and keeps "who counted what" a one-hop question. The cost: a generation
 * whose own connections are done lives on (idle, not accepting) until its predecessor has finished
 * — bounded by that predecessor's drain deadline plus the step timeout.
 *
 * <p>Why HandedOn and not "never roll back once chained": a rollback is still right for the newest
 * draining generation (its successor died: nobody else accepts); it is wrong for every older one (a
 * newer generation serves). Only the successor knows which is the case, so it says so, once, before
 * it stops accepting in turn. The same message covers SIGTERM of the active process: the service is
 * stopping, and a predecessor must not come back to life when it exits.
 *
 * <p>Known limits: a generation that dies takes with it the counts it had not passed on (its own
 * and those its predecessors reported to it). A live connection its predecessor sent in the instant
 * before HandedOn arrived is adopted while it drains: it is served (and moved on, or closed at a
 * request boundary) as any connection of a draining generation.
 */
package io.baton.handoff;
