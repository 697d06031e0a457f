package io.baton.handoff.migration;

import io.baton.handoff.LiveConnection;
import io.baton.handoff.os.Fds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The outgoing process's copies of the connections it sent to a successor that confirms ownership
 * (revision 3), by MovedConnection.id, until the successor confirms each, or dies: then the
 * unconfirmed ones are taken back. Each copy's fds are dups of the sent ones, owned by this table.
 * The sending thread retains, the conn.sock reader confirms, the session takes back or releases.
 */
final class RetainedConnections {

  /** Where the table is: once taken back or released, it holds nothing again. */
  private enum State {
    HOLDING,
    /** The unconfirmed copies were handed back to the application: the successor is gone. */
    TAKEN_BACK,
    /** The session ended: every copy left was closed. */
    RELEASED
  }

  private final Map<Long, LiveConnection> byId = new TreeMap<>();
  private State state = State.HOLDING;
  private long owned;

  /**
   * Keeps {@code copy} as connection {@code id}, before it is sent.
   *
   * @return false once the table was taken back or released: the caller closes {@code copy}
   */
  synchronized boolean retain(long id, LiveConnection copy) {
    if (state != State.HOLDING) {
      return false;
    }
    if (byId.putIfAbsent(id, copy) != null) {
      throw new IllegalArgumentException("id: " + id + " (expected: one not retained yet)");
    }
    return true;
  }

  /** Sending {@code id} failed: the original stays with the application, the copy closes. */
  synchronized void forget(long id) {
    LiveConnection copy = byId.remove(id);
    if (copy != null) {
      Fds.closeAllQuietly(copy.fds());
    }
  }

  /**
   * The successor owns {@code id}: closes this process's copy (close(2) only, the socket lives on
   * in the successor).
   *
   * @return the connection it was, or null if {@code id} is not held (unknown, or confirmed twice)
   */
  synchronized LiveConnection owned(long id) {
    LiveConnection copy = byId.remove(id);
    if (copy != null) {
      owned++;
      Fds.closeAllQuietly(copy.fds());
    }
    return copy;
  }

  /**
   * The successor died: hands back every connection it did not confirm, in the order they were
   * sent; their fds are the caller's. Later calls, and later {@link #retain}s, get nothing.
   */
  synchronized List<LiveConnection> takeBackUnowned() {
    if (state != State.HOLDING) {
      return List.of();
    }
    state = State.TAKEN_BACK;
    List<LiveConnection> unowned = new ArrayList<>(byId.values());
    byId.clear();
    return unowned;
  }

  /**
   * The session ended with the successor alive: closes every copy left (the successor's copies keep
   * the sockets).
   *
   * @return how many were closed
   */
  synchronized int release() {
    if (state != State.HOLDING) {
      return 0;
    }
    state = State.RELEASED;
    int left = byId.size();
    byId.values().forEach(copy -> Fds.closeAllQuietly(copy.fds()));
    byId.clear();
    return left;
  }

  /** Copies held now. */
  synchronized int held() {
    return byId.size();
  }

  /** Confirmations received so far. */
  synchronized long owned() {
    return owned;
  }
}
