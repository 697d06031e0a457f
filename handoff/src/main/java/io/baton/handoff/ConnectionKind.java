package io.baton.handoff;

/** What a live connection moved over {@code conn.sock} is, and so how many fds it carries. */
public enum ConnectionKind {
  /** An HTTP/1.1 client connection at a request boundary: one fd. */
  HTTP1(1),
  /** A TCP relay: the client's fd, then the upstream's, nothing buffered in either direction. */
  TCP_PAIR(2);

  private final int fds;

  ConnectionKind(int fds) {
    this.fds = fds;
  }

  public int fdCount() {
    return fds;
  }
}
