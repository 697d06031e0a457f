package io.baton.sidecar.systemd;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * A real datagram socket standing in for systemd's notify socket: returns each message received.
 */
final class NotifyReceiver implements AutoCloseable {

  private final AFUNIXDatagramSocket socket;

  NotifyReceiver(AFUNIXSocketAddress address) throws IOException {
    socket = AFUNIXDatagramSocket.newInstance();
    socket.bind(address);
    socket.setSoTimeout(5000);
  }

  /** The next datagram, waiting at most 5 s. */
  String next() throws IOException {
    DatagramPacket packet = new DatagramPacket(new byte[4096], 4096);
    socket.receive(packet);
    return new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8);
  }

  /** Whether a datagram arrives within {@code millis}. */
  boolean anyWithin(int millis) throws IOException {
    socket.setSoTimeout(millis);
    try {
      next();
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } finally {
      socket.setSoTimeout(5000);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
