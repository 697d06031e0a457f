package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.testkit.process.BatonProcess;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A config that cannot work stops start-up with a non-zero exit and a message naming the cause. */
@Timeout(120)
@ExtendWith(DumpLogsOnFailure.class)
class BadConfigTest {

  private final BatonFixture fixture = new BatonFixture();

  @AfterEach
  void cleanUp() {
    fixture.close();
  }

  private Path validConfig() {
    return fixture
        .config()
        .httpListener("web", "127.0.0.1:0", "backend")
        .cluster("backend", "127.0.0.1:9")
        .write();
  }

  private BatonProcess runAndExit(Path config, int expectedCode) {
    BatonProcess p = fixture.start(config);
    assertThat(p.awaitExit(Duration.ofSeconds(60))).as(p.stderrText()).isEqualTo(expectedCode);
    return p;
  }

  @Test
  void unknownKeyNamesTheKey() throws Exception {
    Path config = validConfig();
    Files.writeString(
        config, Files.readString(config).replace("drain:\n", "drain:\n  grace: 5s\n"));
    BatonProcess p = runAndExit(config, 2);
    assertThat(p.stderrText())
        .contains("drain.grace: unknown key (expected one of: http2GoawayDelay, migrate, timeout)");
  }

  @Test
  void durationWithoutUnitNamesKeyValueAndForm() throws Exception {
    Path config = validConfig();
    Files.writeString(config, Files.readString(config).replace("timeout: 30s", "timeout: \"30\""));
    BatonProcess p = runAndExit(config, 2);
    assertThat(p.stderrText()).contains("drain.timeout: \"30\" (expected a duration such as 30s");
  }

  @Test
  void validateChecksWithoutStarting() throws Exception {
    Path config = validConfig();
    BatonProcess ok = fixture.command("validate", "--config", config.toString());
    assertThat(ok.awaitExit(Duration.ofSeconds(60))).isZero();
    assertThat(ok.stdoutText()).contains("ok (1 listeners, 1 clusters");
    assertThat(fixture.runDir()).as("validate creates nothing").doesNotExist();

    Files.writeString(config, Files.readString(config).replace("protocol: http", "protocol: udp"));
    BatonProcess bad = fixture.command("validate", "--config", config.toString());
    assertThat(bad.awaitExit(Duration.ofSeconds(60))).isEqualTo(2);
    assertThat(bad.stderrText()).contains("listeners[0].protocol: \"udp\" (expected http or tcp)");
  }

  @Test
  void portInUseNamesListenerAndAddress() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      String address = "127.0.0.1:" + taken.getLocalPort();
      Path config =
          fixture
              .config()
              .httpListener("web", address, "backend")
              .cluster("backend", "127.0.0.1:9")
              .write();
      BatonProcess p = runAndExit(config, 1);
      assertThat(p.stderrText()).contains("listener web: cannot bind " + address);
      assertThat(fixture.reconfigSock())
          .as("a generation that could not start serves no reconfig.sock")
          .doesNotExist();
    }
  }

  @Test
  void unreadableConfigFileNamesTheFile() throws Exception {
    Path missing = fixture.dir().resolve("missing.yaml");
    BatonProcess p = runAndExit(missing, 2);
    assertThat(p.stderrText()).contains(missing + ": does not exist");

    Path directory = Files.createDirectory(fixture.dir().resolve("a-directory.yaml"));
    BatonProcess q = runAndExit(directory, 2);
    assertThat(q.stderrText()).contains(directory + ": cannot be read");
  }

  @Test
  void runDirWritableByOthersIsRefused() throws Exception {
    Files.createDirectories(fixture.runDir());
    Files.setPosixFilePermissions(fixture.runDir(), PosixFilePermissions.fromString("rwxrwxrwx"));
    BatonProcess p = runAndExit(validConfig(), 1);
    assertThat(p.stderrText())
        .contains(fixture.runDir().toString())
        .containsIgnoringCase("writable");
  }
}
