package io.baton.sidecar.migration;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.OwnershipClaim;
import io.baton.sidecar.metrics.BatonMetrics;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The adopter routes each moved connection to the resumer of its kind and refuses (closing its fds)
 * what this process cannot serve; real fds (a pipe), resumers that record.
 */
@Timeout(10)
class ConnectionAdopterTest {

  private static final MovableKind HTTP1 =
      new MovableKind(ConnectionKind.HTTP1, "http", "http1", "an HTTP/1.1 connection");
  private static final MovableKind TCP =
      new MovableKind(ConnectionKind.TCP_PAIR, "tcp", "tcp", "a TCP connection pair");

  private final BatonMetrics metrics = new BatonMetrics();
  private final Recording http1 = new Recording(HTTP1);
  private final Recording tcp = new Recording(TCP);
  private final ConnectionAdopter adopter =
      new ConnectionAdopter(Map.of("web", "http", "db", "tcp"), List.of(http1, tcp), metrics);

  @BeforeAll
  static void nativeTransport() {
    Epoll.ensureAvailability();
  }

  @Test
  void eachConnectionGoesToTheResumerOfItsKind() throws Exception {
    FileDescriptor[] pipe = FileDescriptor.pipe();
    try {
      LiveConnection pair =
          new LiveConnection(
              "db",
              ConnectionKind.TCP_PAIR,
              new int[] {pipe[0].intValue(), pipe[1].intValue()},
              new byte[0],
              "10.0.0.1:5432");
      adopter.arrived(pair);
      assertThat(tcp.resumed).containsExactly(pair);
      assertThat(http1.resumed).isEmpty();
      assertThat(isOpen(pipe[0].intValue()))
          .as("the resumer owns the fds now; nothing closed them")
          .isTrue();
    } finally {
      pipe[0].close();
      pipe[1].close();
    }
  }

  @Test
  void aConnectionItsListenerDoesNotSpeakIsRefusedAndItsFdClosed() throws Exception {
    FileDescriptor[] pipe = FileDescriptor.pipe();
    try {
      int fd = pipe[0].intValue();
      adopter.arrived(
          new LiveConnection("db", ConnectionKind.HTTP1, new int[] {fd}, new byte[0], ""));
      assertThat(http1.resumed).as("db speaks tcp").isEmpty();
      assertThat(tcp.resumed).isEmpty();
      assertThat(isOpen(fd)).as("a refused connection is closed here").isFalse();
    } finally {
      pipe[1].close();
    }
  }

  @Test
  void aConnectionOfAListenerThisProcessLacksIsRefusedAndItsFdClosed() throws Exception {
    FileDescriptor[] pipe = FileDescriptor.pipe();
    try {
      int fd = pipe[0].intValue();
      adopter.arrived(
          new LiveConnection("gone", ConnectionKind.HTTP1, new int[] {fd}, new byte[0], ""));
      assertThat(http1.resumed).isEmpty();
      assertThat(isOpen(fd)).isFalse();
    } finally {
      pipe[1].close();
    }
  }

  private static boolean isOpen(int fd) {
    return Files.exists(Path.of("/proc/self/fd/" + fd));
  }

  private static final class Recording implements ConnectionResumer {
    private final MovableKind kind;
    final List<LiveConnection> resumed = new ArrayList<>();

    Recording(MovableKind kind) {
      this.kind = kind;
    }

    @Override
    public MovableKind kind() {
      return kind;
    }

    @Override
    public void resume(LiveConnection connection, OwnershipClaim claim) {
      resumed.add(connection);
    }
  }
}
