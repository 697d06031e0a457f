package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.testkit.process.BatonProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@Timeout(600)
@ExtendWith(DumpLogsOnFailure.class)
class FdLeakTest {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private final BatonFixture fixture = new BatonFixture();

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  @Test
  void twentyHandoffsLeaveNoFdAndNoControlFileBehind() throws Exception {
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .tcpListener("raw", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:9")
            .write();
    BatonProcess current = fixture.start(config);
    current.awaitServing(WAIT);
    Integer fdsAfterFirstHandoff = null;
    for (int handoff = 1; handoff <= 20; handoff++) {
      assertThat(runDirFiles()).as("before handoff %d", handoff).contains("reconfig.sock");
      BatonProcess next = fixture.start(config);
      assertThat(next.awaitServing(WAIT).generation()).isEqualTo(handoff + 1);
      assertThat(current.awaitExit(WAIT)).isZero();
      current = next;
      // Whatever the predecessor left is released once it exited and this process saw it go.
      current.awaitLogLine("predecessor_drained", WAIT);
      if (handoff == 1) {
        fdsAfterFirstHandoff = current.openFds();
      }
    }
    assertThat(current.openFds())
        .as("open fds of generation 21 vs generation 2")
        .isEqualTo(fdsAfterFirstHandoff);
    String instance = current.awaitServing(WAIT).instanceId();
    assertThat(runDirFiles())
        .as(
            "only the active process's instance lock, control and admin sockets, each with its"
                + " published name")
        .containsExactlyInAnyOrder(
            "reconfig.sock",
            "reconfig.sock." + instance + ".1",
            "admin.sock",
            "admin.sock." + instance,
            "instance." + instance + ".lock",
            "arrival.lock");
  }

  private List<String> runDirFiles() throws IOException {
    try (Stream<Path> files = Files.list(fixture.runDir())) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
