package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.testkit.process.BatonProcess;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@Timeout(120)
@ExtendWith(DumpLogsOnFailure.class)
class StaleSocketTest {

  private final BatonFixture fixture = new BatonFixture();

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  @Test
  void reconfigSockLeftBySigkilledProcessMeansAColdStart() {
    Path config =
        fixture
            .config()
            .httpListener("web", "127.0.0.1:0", "backend")
            .cluster("backend", "127.0.0.1:9")
            .write();
    BatonProcess first = fixture.start(config);
    first.awaitServing(Duration.ofSeconds(60));
    first.kill();
    assertThat(fixture.reconfigSock()).as("SIGKILL leaves the socket file behind").exists();

    BatonProcess next = fixture.start(config);
    assertThat(next.awaitServing(Duration.ofSeconds(60)).generation())
        .as("a cold start, not a failure")
        .isEqualTo(1);
    assertThat(next.stderrText()).contains("cold start");
  }
}
