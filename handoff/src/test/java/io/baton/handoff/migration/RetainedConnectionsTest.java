package io.baton.handoff.migration;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.ConnectionKind;
import io.baton.handoff.LiveConnection;
import io.baton.handoff.os.Fds;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.FileDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The outgoing side's copies of moved connections, on real fds (pipes). */
@Timeout(10)
class RetainedConnectionsTest {

  private final List<FileDescriptor> opened = new ArrayList<>();
  private final RetainedConnections table = new RetainedConnections();

  @BeforeAll
  static void nativeLibrary() {
    Epoll.ensureAvailability();
  }

  @AfterEach
  void closePipes() throws Exception {
    for (FileDescriptor fd : opened) {
      fd.close();
    }
  }

  private LiveConnection copy(ConnectionKind kind) throws Exception {
    int[] fds = new int[kind.fdCount()];
    for (int i = 0; i < fds.length; i++) {
      FileDescriptor[] pipe = FileDescriptor.pipe();
      opened.add(pipe[1]);
      fds[i] = pipe[0].intValue(); // the table owns and closes it
    }
    return new LiveConnection("web", kind, fds, new byte[] {1, 2}, "");
  }

  private static boolean isOpen(int fd) {
    return Files.exists(Path.of("/proc/self/fd/" + fd));
  }

  @Test
  void aConfirmationClosesThatCopyOnly() throws Exception {
    LiveConnection one = copy(ConnectionKind.HTTP1);
    LiveConnection two = copy(ConnectionKind.TCP_PAIR);
    assertThat(table.retain(1, one)).isTrue();
    assertThat(table.retain(2, two)).isTrue();

    assertThat(table.owned(2)).isSameAs(two);

    assertThat(Arrays.stream(two.fds()).noneMatch(RetainedConnectionsTest::isOpen))
        .as("the owned copy is closed")
        .isTrue();
    assertThat(isOpen(one.fds()[0])).as("the other is still held").isTrue();
    assertThat(table.owned(2)).as("confirmed twice: nothing more").isNull();
    assertThat(table.owned(7)).as("never sent").isNull();
    assertThat(table.owned()).isEqualTo(1);
    assertThat(table.held()).isEqualTo(1);
  }

  @Test
  void theSuccessorsDeathHandsBackEveryUnconfirmedCopyOpenInTheOrderSent() throws Exception {
    LiveConnection one = copy(ConnectionKind.HTTP1);
    LiveConnection two = copy(ConnectionKind.HTTP1);
    LiveConnection three = copy(ConnectionKind.HTTP1);
    table.retain(3, three);
    table.retain(1, one);
    table.retain(2, two);
    table.owned(2);

    List<LiveConnection> back = table.takeBackUnowned();

    assertThat(back).containsExactly(one, three);
    assertThat(back).allMatch(c -> isOpen(c.fds()[0]), "the caller's to serve: still open");
    assertThat(table.takeBackUnowned()).as("only once").isEmpty();
    LiveConnection late = copy(ConnectionKind.HTTP1);
    assertThat(table.retain(4, late)).as("nothing is kept after the take-back").isFalse();
    assertThat(table.owned(1)).as("a late confirmation finds nothing").isNull();
    back.forEach(c -> Fds.closeAllQuietly(c.fds()));
    Fds.closeAllQuietly(late.fds());
  }

  @Test
  void aSendThatFailedForgetsItsCopyAndTheEndOfTheSessionClosesTheRest() throws Exception {
    LiveConnection failed = copy(ConnectionKind.HTTP1);
    LiveConnection left = copy(ConnectionKind.TCP_PAIR);
    table.retain(1, failed);
    table.retain(2, left);

    table.forget(1);
    assertThat(isOpen(failed.fds()[0])).isFalse();

    assertThat(table.release()).isEqualTo(1);
    assertThat(Arrays.stream(left.fds()).noneMatch(RetainedConnectionsTest::isOpen))
        .as("what is left is closed")
        .isTrue();
    assertThat(table.takeBackUnowned()).as("released: nothing comes back").isEmpty();
  }
}
