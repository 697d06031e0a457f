package io.baton.sidecar.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Member;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MembersDumpTest {

  @TempDir Path dir;

  @Test
  void writtenMembersReadBackAsTheyWere() throws IOException {
    Map<String, Member> byKey = new LinkedHashMap<>();
    byKey.put("/p/10.0.0.7:8080", Member.of(new HostPort("10.0.0.7", 8080)));
    byKey.put("/p/m2", new Member(new HostPort("::1", 9000), 3, 0, Duration.ofMillis(1500), true));
    MembersDump dump = new MembersDump(dir.resolve("state/backend.json"));

    dump.write(
        MembersDump.Contents.of(
            "backend", "/p/", 42, Instant.parse("2026-11-25T10:00:00Z"), byKey));

    MembersDump.Contents read = dump.read().orElseThrow();
    assertThat(read.cluster()).isEqualTo("backend");
    assertThat(read.revision()).isEqualTo(42);
    assertThat(read.writtenAt()).isEqualTo("2026-11-25T10:00:00Z");
    assertThat(read.membersByKey()).containsExactlyEntriesOf(byKey);
    assertThat(Files.readString(dump.path()))
        .contains("\"address\" : \"[::1]:9000\"", "\"failTimeout\" : \"1500ms\"");
  }

  @Test
  void rewritingLeavesNoTempFileBehind() throws IOException {
    MembersDump dump = new MembersDump(dir.resolve("backend.json"));
    for (int revision = 1; revision <= 3; revision++) {
      dump.write(MembersDump.Contents.of("backend", "/p/", revision, Instant.EPOCH, Map.of()));
    }
    assertThat(dump.read().orElseThrow().revision()).isEqualTo(3);
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(dump.path());
    }
  }

  @Test
  void missingDumpIsEmptyAndABrokenOneNamesTheFile() throws IOException {
    MembersDump dump = new MembersDump(dir.resolve("backend.json"));
    assertThat(dump.read()).isEmpty();
    Files.writeString(
        dump.path(),
        "{\"cluster\":\"backend\",\"members\":[{\"key\":\"k\",\"address\":\"nowhere\"}]}");
    assertThatThrownBy(dump::read)
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith(
            "dump "
                + dump.path()
                + ": not a members dump (member k: \"nowhere\" (expected host:port");
  }
}
