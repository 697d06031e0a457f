package io.baton.handoff.process;

import io.baton.handoff.os.Fds;

/**
 * Closing the plain int fds the library hands the application ({@link
 * io.baton.handoff.InheritedListener#fd()}, {@link io.baton.handoff.LiveConnection#fds()}) when it
 * does not register them. The JDK cannot close an int fd; the library's OS edge can, and stays
 * private behind this.
 */
public final class FileDescriptors {

  private FileDescriptors() {}

  /** close(2), logging nothing and throwing nothing: for an fd that is not to be used. */
  public static void closeQuietly(int fd) {
    Fds.closeQuietly(fd);
  }

  /** {@link #closeQuietly(int)} for each. */
  public static void closeAllQuietly(int... fds) {
    Fds.closeAllQuietly(fds);
  }
}
