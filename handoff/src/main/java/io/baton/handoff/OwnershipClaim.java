package io.baton.handoff;

/**
 * How the process that received a live connection tells its predecessor that it owns it now. Until
 * then the predecessor keeps a copy of the connection's fds and serves the connection itself if
 * this process dies ({@code handoff.proto}, conn.sock, revision 3).
 *
 * <p>Call {@link #claim()} just before the first change of the connection's state: before the first
 * bytes read from it (or the unconsumed bytes that came with it) are served, before an EOF read
 * from it is acted on, before it is closed, and before it is moved on. An idle connection that is
 * never touched is never claimed.
 */
@FunctionalInterface
public interface OwnershipClaim {

  /**
   * Nobody to tell: the connection was never another process's (it is resumed in the process that
   * sent it), or the predecessor does not keep copies (protocol revision 2 or older).
   */
  OwnershipClaim NONE = () -> {};

  /**
   * Returns once the confirmation is written to conn.sock (so the kernel delivers it to the
   * predecessor even if this process dies next), or at once if it was already written or there is
   * nobody to tell any more. Thread-safe; only the first call writes.
   */
  void claim();
}
