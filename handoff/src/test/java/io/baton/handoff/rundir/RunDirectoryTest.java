package io.baton.handoff.rundir;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.handoff.peer.ProcessIdentity;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class RunDirectoryTest {

  @TempDir Path temp;
  private Process holder;

  @AfterEach
  void endHolder() throws InterruptedException {
    if (holder != null && holder.isAlive()) {
      holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void filesOfALiveProcessStayAndThoseOfAKilledOneGo() throws Exception {
    Path dir = temp.resolve("run");
    RunDirectory.open(dir, ProcessIdentity.ofThisProcess()).close();
    String other = startHolder(dir);
    assertThat(files(dir)).contains("admin.sock." + other, "instance." + other + ".lock");

    try (RunDirectory next = RunDirectory.open(dir, ProcessIdentity.ofThisProcess())) {
      next.removeFilesOfEndedInstances();
      assertThat(files(dir))
          .as("the holder lives: its lock is held")
          .contains("admin.sock." + other, "instance." + other + ".lock");

      holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: it removes nothing itself
      assertThat(files(dir)).contains("admin.sock." + other);
      next.removeFilesOfEndedInstances();
      assertThat(files(dir))
          .as("only this process's own lock is left")
          .containsExactly("instance." + next.self().instanceId() + ".lock");
    }
  }

  @Test
  void aProcessThatLeavesRemovesItsLockAndAFileWithoutOneIsAnEndedInstances() throws Exception {
    Path dir = temp.resolve("run");
    String orphan = ProcessIdentity.newInstanceId();
    RunDirectory first = RunDirectory.open(dir, ProcessIdentity.ofThisProcess());
    Files.createFile(dir.resolve("reconfig.sock." + orphan + ".3"));
    Files.createFile(
        dir.resolve("reconfig.sock.1234.1")); // an older binary's pid-named file: not ours to judge
    first.close();
    assertThat(files(dir)).doesNotContain("instance." + first.self().instanceId() + ".lock");

    try (RunDirectory next = RunDirectory.open(dir, ProcessIdentity.ofThisProcess())) {
      next.removeFilesOfEndedInstances();
      assertThat(files(dir))
          .containsExactlyInAnyOrder(
              "reconfig.sock.1234.1", "instance." + next.self().instanceId() + ".lock");
    }
  }

  @Test
  void twoInstancesInOneJvmKeepEachOthersFiles() throws Exception {
    Path dir = temp.resolve("run");
    try (RunDirectory a = RunDirectory.open(dir, ProcessIdentity.ofThisProcess());
        RunDirectory b = RunDirectory.open(dir, ProcessIdentity.ofThisProcess())) {
      Files.createFile(a.ownSocket("admin.sock"));
      b.removeFilesOfEndedInstances();
      a.removeFilesOfEndedInstances();
      assertThat(files(dir))
          .contains(
              "admin.sock." + a.self().instanceId(),
              "instance." + a.self().instanceId() + ".lock",
              "instance." + b.self().instanceId() + ".lock");
      assertThat(a.newTempControlSocket().getFileName().toString())
          .isEqualTo("reconfig.sock." + a.self().instanceId() + ".1");
    }
  }

  private String startHolder(Path dir) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    holder =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                LockHolder.class.getName(),
                dir.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
    String id = out.readLine();
    assertThat(id).as("the holder's instance id on its stdout").isNotNull().matches("[a-z2-7]{16}");
    return id;
  }

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
