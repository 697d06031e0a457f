package io.baton.handoff.os;

/**
 * The peer of a connected Unix socket as the kernel reports it (SO_PEERCRED).
 *
 * @param uid the peer's effective uid when it connected
 * @param pid the peer's pid in this process's pid namespace; 0 when the peer lives in a pid
 *     namespace this process cannot see (e.g. another container of the pod without a shared process
 *     namespace)
 */
public record PeerCredentials(long uid, long pid) {

  /** The kernel could tell us the peer's pid. */
  public boolean pidVisible() {
    return pid > 0;
  }

  @Override
  public String toString() {
    return "pid " + (pidVisible() ? Long.toString(pid) : "invisible") + " uid " + uid;
  }
}
