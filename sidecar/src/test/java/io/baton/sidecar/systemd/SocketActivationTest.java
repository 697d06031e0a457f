package io.baton.sidecar.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.systemd.SocketActivation.Configured;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class SocketActivationTest {

  private static final long PID = 4242;

  @Test
  void fdsStartAtThreeWithTheirNames() {
    assertThat(
            SocketActivation.parse(
                Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "web:admin"),
                PID))
        .containsExactly(new ActivatedFd(3, "web"), new ActivatedFd(4, "admin"));
  }

  @Test
  void anotherProcessesFdsAreIgnored() {
    assertThat(SocketActivation.parse(Map.of("LISTEN_PID", "1", "LISTEN_FDS", "2"), PID))
        .as("inherited from a parent that was activated: not ours")
        .isEmpty();
    assertThat(SocketActivation.parse(Map.of("LISTEN_FDS", "2"), PID))
        .as("no LISTEN_PID: not for us")
        .isEmpty();
    assertThat(SocketActivation.parse(Map.of(), PID)).isEmpty();
  }

  @Test
  void namesOfAnotherCountAreDropped() {
    assertThat(
            SocketActivation.parse(
                Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "web"), PID))
        .containsExactly(new ActivatedFd(3, null), new ActivatedFd(4, null));
  }

  @Test
  void badValuesNameTheVariableTheValueAndWhatWasExpected() {
    assertThatThrownBy(
            () -> SocketActivation.parse(Map.of("LISTEN_PID", "4242", "LISTEN_FDS", "x"), PID))
        .hasMessage("LISTEN_FDS: \"x\" (expected a number of fds)");
    assertThatThrownBy(
            () -> SocketActivation.parse(Map.of("LISTEN_PID", "-3", "LISTEN_FDS", "1"), PID))
        .hasMessage("LISTEN_PID: \"-3\" (expected a process id)");
  }

  @Test
  void anFdMatchesByNameFirstThenByBoundAddress() {
    Map<String, Configured> configured = new LinkedHashMap<>();
    configured.put("web", new Configured("web", HostPort.parse("127.0.0.1:8080"), "http"));
    configured.put("raw", new Configured("raw", HostPort.parse("127.0.0.1:9090"), "tcp"));
    configured.put("any", new Configured("any", HostPort.parse("127.0.0.1:0"), "tcp"));
    InetSocketAddress on9090 = new InetSocketAddress("127.0.0.1", 9090);

    assertThat(SocketActivation.match(new ActivatedFd(3, "web"), on9090, configured).name())
        .as("FileDescriptorName wins over the address")
        .isEqualTo("web");
    assertThat(SocketActivation.match(new ActivatedFd(3, "unknown"), on9090, configured).name())
        .isEqualTo("raw");
    assertThat(
            SocketActivation.match(
                new ActivatedFd(3, null), new InetSocketAddress("127.0.0.1", 7070), configured))
        .as("port 0 in the config matches no socket by address")
        .isNull();
  }

  @Test
  void aBlockingSocketBecomesNonBlockingAndKeepsItsAddress() throws Exception {
    Set<Integer> before = openSockets();
    try (ServerSocket blocking = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Set<Integer> created = openSockets();
      created.removeAll(before);
      int fd = created.stream().findFirst().orElseThrow();
      assertThat(flags(fd) & O_NONBLOCK).as("the JDK's ServerSocket is blocking").isZero();

      try (Socket queued = new Socket()) {
        queued.connect(blocking.getLocalSocketAddress(), 5000);

        ListeningFds.makeNonBlocking(fd);

        assertThat(flags(fd) & O_NONBLOCK).as("O_NONBLOCK in /proc/self/fdinfo/%d", fd).isNotZero();
        assertThat(ListeningFds.boundAddress(fd)).isEqualTo(blocking.getLocalSocketAddress());
        // Closing junixsocket's channel instead of the bare dup would shutdown(2) the socket:
        // the queued connection reset, accept failing with EINVAL.
        blocking.setSoTimeout(5000);
        try (Socket accepted = blocking.accept()) {
          assertThat(accepted.getPort())
              .as("the connection queued before, still there")
              .isEqualTo(queued.getLocalPort());
        }
      }
    }
  }

  private static final int O_NONBLOCK = 04000;

  /** The fds of this process that are sockets (not, e.g., the one listing /proc/self/fd). */
  private static Set<Integer> openSockets() throws Exception {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return new HashSet<>(
          fds.map(p -> Integer.parseInt(p.getFileName().toString()))
              .filter(SocketActivationTest::isSocket)
              .toList());
    }
  }

  private static boolean isSocket(int fd) {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))
          .toString()
          .startsWith("socket:");
    } catch (Exception e) {
      return false;
    }
  }

  /** The octal "flags:" of /proc/self/fdinfo/FD. */
  private static int flags(int fd) throws Exception {
    return Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
        .filter(l -> l.startsWith("flags:"))
        .map(l -> Integer.parseInt(l.substring(6).trim(), 8))
        .findFirst()
        .orElseThrow();
  }
}
