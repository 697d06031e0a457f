package io.baton.sidecar.systemd;

import java.io.File;
import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * The datagram socket systemd listens on for {@code sd_notify} messages, named by {@code
 * NOTIFY_SOCKET}: a file path, or {@code @name} for Linux's abstract namespace. One datagram per
 * message, as {@code sd_notify(3)} sends it; the kernel attaches our credentials (systemd enables
 * SO_PASSCRED), which is how systemd knows which process spoke.
 */
final class NotifySocket {

  private final String name;
  private final AFUNIXSocketAddress target;
  private AFUNIXDatagramChannel channel;

  /**
   * @throws IllegalArgumentException if {@code name} is neither an absolute path nor {@code @name}
   */
  NotifySocket(String name) throws SocketException {
    this.name = name;
    this.target = addressOf(name);
  }

  private static AFUNIXSocketAddress addressOf(String name) throws SocketException {
    if (name.startsWith("@") && name.length() > 1) {
      return AFUNIXSocketAddress.inAbstractNamespace(name.substring(1));
    }
    if (name.startsWith("/")) {
      return AFUNIXSocketAddress.of(new File(name));
    }
    throw new IllegalArgumentException(
        "NOTIFY_SOCKET: \"" + name + "\" (expected an absolute path or @abstract-name)");
  }

  /** Sends {@code message} as one datagram; opens the socket on first use. */
  synchronized void send(String message) throws IOException {
    if (channel == null) {
      channel = AFUNIXDatagramChannel.open();
    }
    channel.send(ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)), target);
  }

  String name() {
    return name;
  }
}
