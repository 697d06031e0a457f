package io.baton.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.newsclub.net.unix.AFUNIXDatagramSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * A real {@code NOTIFY_SOCKET}, as systemd's: a datagram socket at a path, recording every message
 * any process sends to it (one datagram each), in arrival order.
 */
public final class NotifySocket implements AutoCloseable {

  private final Path path;
  private final AFUNIXDatagramSocket socket;
  private final List<String> messages = new CopyOnWriteArrayList<>();
  private final Thread reader;

  public NotifySocket(Path path) {
    this.path = path;
    try {
      socket = AFUNIXDatagramSocket.newInstance();
      socket.bind(AFUNIXSocketAddress.of(path.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind a notify socket at " + path, e);
    }
    reader = new Thread(this::readUntilClosed, "notify-socket-reader");
    reader.setDaemon(true);
    reader.start();
  }

  private void readUntilClosed() {
    byte[] buffer = new byte[4096];
    while (!socket.isClosed()) {
      DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
      try {
        socket.receive(packet);
      } catch (SocketException e) {
        return; // closed
      } catch (IOException e) {
        messages.add("receive failed: " + e);
        return;
      }
      messages.add(new String(packet.getData(), 0, packet.getLength(), StandardCharsets.UTF_8));
    }
  }

  /** The value for {@code NOTIFY_SOCKET}. */
  public String address() {
    return path.toString();
  }

  public List<String> messages() {
    return List.copyOf(messages);
  }

  /**
   * Waits until a message contains every one of {@code lines} (e.g. "READY=1", "MAINPID=42");
   * returns it.
   */
  public String awaitMessageWith(Duration timeout, String... lines) {
    Awaitility.await("a notify message with " + List.of(lines) + "; received so far: " + messages)
        .atMost(timeout)
        .until(() -> find(lines) != null);
    return find(lines);
  }

  private String find(String... lines) {
    return messages.stream()
        .filter(m -> List.of(m.split("\n")).containsAll(List.of(lines)))
        .findFirst()
        .orElse(null);
  }

  @Override
  public void close() {
    socket.close();
  }
}
