package io.baton.sidecar.discovery;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.baton.sidecar.config.Durations;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.upstream.Member;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A cluster's members on disk, for a cold start while etcd is down (upsync's {@code
 * upsync_dump_path}). Written as JSON to a temp file beside the target, synced, then renamed over
 * it: a reader sees the old file or the new one, never half of one, even if Baton dies mid-write.
 */
public final class MembersDump {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .setSerializationInclusion(JsonInclude.Include.NON_NULL);

  /** The file's content. */
  public record Contents(
      String cluster, String prefix, long revision, String writtenAt, List<Entry> members) {

    /** One member; the parameters as the config writes them. */
    public record Entry(
        String key, String address, int weight, int maxFails, String failTimeout, boolean down) {}

    static Contents of(
        String cluster, String prefix, long revision, Instant at, Map<String, Member> byKey) {
      List<Entry> entries = new ArrayList<>();
      byKey.forEach(
          (key, m) ->
              entries.add(
                  new Entry(
                      key,
                      m.address().toString(),
                      m.weight(),
                      m.maxFails(),
                      Durations.format(m.failTimeout()),
                      m.down())));
      return new Contents(cluster, prefix, revision, at.toString(), entries);
    }

    /** Member by key; throws IllegalArgumentException naming the entry that is not valid. */
    Map<String, Member> membersByKey() {
      Map<String, Member> result = new LinkedHashMap<>();
      for (Entry e : members == null ? List.<Entry>of() : members) {
        Duration failTimeout =
            e.failTimeout() == null
                ? Member.DEFAULT_FAIL_TIMEOUT
                : Durations.parseOrNull(e.failTimeout());
        if (failTimeout == null) {
          throw new IllegalArgumentException(
              "member "
                  + e.key()
                  + ": failTimeout \""
                  + e.failTimeout()
                  + "\" (expected a duration such as 10s)");
        }
        try {
          result.put(
              e.key(),
              new Member(
                  HostPort.parse(e.address()), e.weight(), e.maxFails(), failTimeout, e.down()));
        } catch (IllegalArgumentException | NullPointerException bad) {
          throw new IllegalArgumentException("member " + e.key() + ": " + bad.getMessage(), bad);
        }
      }
      return result;
    }
  }

  private final Path path;

  public MembersDump(Path path) {
    this.path = path;
  }

  public Path path() {
    return path;
  }

  public void write(Contents contents) throws IOException {
    Files.createDirectories(path.toAbsolutePath().getParent());
    // A name of its own, never one keyed by pid: the dump may be on a volume that two generations
    // in two containers (both pid 1) write at once, draining and serving.
    Path temp =
        Files.createTempFile(
            path.toAbsolutePath().getParent(), "." + path.getFileName() + ".tmp-", "");
    try {
      try (FileChannel ch =
          FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(ByteBuffer.wrap(JSON.writeValueAsBytes(contents)));
        ch.force(true);
      }
      try {
        Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * The dump, or empty when there is none.
   *
   * @throws IOException naming the file and what is wrong with it
   */
  public Optional<Contents> read() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Contents contents;
    try {
      contents = JSON.readValue(bytes, Contents.class);
      contents.membersByKey();
    } catch (IOException | IllegalArgumentException e) {
      throw new IOException("dump " + path + ": not a members dump (" + e.getMessage() + ")", e);
    }
    return Optional.of(contents);
  }
}
