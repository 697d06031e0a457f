package io.baton.sidecar.systemd;

import io.baton.handoff.process.FileDescriptors;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * The OS calls socket activation needs on a listening fd systemd passed us: nothing else calls
 * them.
 */
final class ListeningFds {

  private ListeningFds() {}

  /**
   * Sets O_NONBLOCK: systemd passes its sockets as it created them, usually blocking, and Netty's
   * epoll loop accepts until EAGAIN, which on a blocking socket would park the event loop in
   * accept(2) forever. The JDK has no fcntl(2); junixsocket casts an fd to a {@link
   * ServerSocketChannel} whose {@code configureBlocking(false)} sets the flag. The cast works on a
   * dup(2): O_NONBLOCK belongs to the open file description both fds share. The dup is then closed
   * with a plain close(2) through its {@link FileDescriptor}, never by closing the channel:
   * junixsocket's close calls shutdown(2) first, which would stop the shared socket listening and
   * reset the connections in its queue. Closing the descriptor also invalidates it, so the
   * abandoned channel has nothing left to close.
   */
  static void makeNonBlocking(int fd) throws IOException {
    FileDescriptor duplicate = null;
    try {
      FileDescriptorCast cast =
          FileDescriptorCast.duplicating(FileDescriptorCast.unsafeUsing(fd).getFileDescriptor());
      duplicate = cast.getFileDescriptor();
      cast.as(ServerSocketChannel.class).configureBlocking(false);
    } catch (IOException | RuntimeException e) {
      throw failure("set-nonblocking", fd, e);
    } finally {
      if (duplicate != null) {
        // FileInputStream.close() closes the fd it was given: the JDK's only public close of a
        // descriptor.
        new FileInputStream(duplicate).close();
      }
    }
  }

  /** getsockname(2) of {@code fd}, a TCP socket. Netty's wrapper does not own or close the fd. */
  static InetSocketAddress boundAddress(int fd) throws IOException {
    try {
      Epoll.ensureAvailability();
      SocketAddress local = new Socket(fd).localAddress();
      if (local instanceof InetSocketAddress inet) {
        return inet;
      }
      throw new IOException("bound to " + local + " (expected a TCP address)");
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      throw failure("getsockname", fd, e);
    }
  }

  static void close(int fd) {
    FileDescriptors.closeQuietly(fd);
  }

  /**
   * Names the call and the fd, e.g. {@code getsockname (fd 3): IOException: Bad file descriptor}.
   */
  private static IOException failure(String operation, int fd, Throwable cause) {
    return new IOException(
        operation
            + " (fd "
            + fd
            + "): "
            + cause.getClass().getSimpleName()
            + ": "
            + cause.getMessage(),
        cause);
  }
}
