/**
 * One process's part in handoffs, as the application drives it: {@link
 * io.baton.handoff.process.Handoff}, the facade that owns the incoming side (this process took over
 * from generation N) and the outgoing side (it hands over to N+1), and {@link
 * io.baton.handoff.process.FileDescriptors} for the fds it hands over.
 *
 * <p>Public, with {@code io.baton.handoff} (the types the application implements and receives).
 * Every other package of the library is private to it; the build checks that no public member of
 * these two exposes a type of the others, so that an application never needs to name one (see
 * {@code io.baton.handoff}'s package description for the layers).
 */
package io.baton.handoff.process;
