package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.Admin;
import io.baton.it.support.BatonFixture;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.upstream.TestUpstream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bin/baton}, the command the README gives: the JVM options it chooses for a sidecar and the
 * start-up cache it makes and then starts every command from. The JVM is this test's own ({@code
 * JAVA}), so the test holds on JDK 17 (an AppCDS archive) and JDK 25 (an AOT cache).
 */
@Timeout(300)
@ExtendWith(DumpLogsOnFailure.class)
class BinBatonTest {

  private static final Path LAUNCHER =
      BatonFixture.JAR.getParent().resolve("../../bin/baton").normalize();
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final boolean AOT = Runtime.version().feature() >= 25;

  private final BatonFixture fixture = new BatonFixture();
  private final List<Process> started = new ArrayList<>();
  private TestUpstream upstream;

  @AfterEach
  void cleanUp() throws InterruptedException {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    if (upstream != null) {
      upstream.close();
    }
    fixture.close();
  }

  @Test
  void startupCacheIsMadeOnceAndEveryCommandThenStartsFromIt() throws Exception {
    Path cacheDir = fixture.dir().resolve("cache");
    Map<String, String> env = Map.of("BATON_CACHE_DIR", cacheDir.toString());

    Result made = run(env, "startup-cache");
    assertThat(made.exitCode()).as("baton startup-cache: %s", made.output()).isZero();
    List<Path> caches = files(cacheDir);
    assertThat(caches).as("one cache for this jar and JVM, named after both").hasSize(1);
    assertThat(caches.get(0).getFileName().toString())
        .matches("baton-\\d+-\\d+-jdk[A-Za-z0-9._]+\\." + (AOT ? "aot" : "jsa"));

    Result again = run(env, "startup-cache");
    assertThat(again.exitCode()).isZero();
    assertThat(again.output()).contains("exists");

    // With -Xshare:on (AppCDS) or -XX:AOTMode=on, a cache the JVM cannot map is a start-up error,
    // not a silent slow start: exit 0 says this command started from it.
    String strict = AOT ? "-XX:AOTMode=on" : "-Xshare:on";
    Result version =
        run(
            Map.of("BATON_CACHE_DIR", cacheDir.toString(), "BATON_JAVA_OPTS", strict),
            "version",
            "--protocol");
    assertThat(version.exitCode())
        .as("baton version from the cache, %s: %s", strict, version.output())
        .isZero();
  }

  @Test
  void runSizesTheJvmForASidecarAndKeepsStdoutForTheServingLine() throws Exception {
    upstream = TestUpstream.start(0);
    Path config = fixture.webProxyConfig(upstream.port()).write();
    Path cacheDir = fixture.dir().resolve("no-cache-here");

    Process baton =
        start(Map.of("BATON_CACHE_DIR", cacheDir.toString()), "run", "--config", config.toString());
    Path stdout = fixture.dir().resolve("run.out");
    await().atMost(WAIT).until(() -> Files.readString(stdout).startsWith(ServingLine.PREFIX));
    String out = Files.readString(stdout);
    assertThat(out.lines().toList())
        .as("stdout: the serving line and nothing else (JVM warnings go to stderr)")
        .hasSize(1);
    ServingLine serving = ServingLine.parse(out.lines().findFirst().orElseThrow());
    double heap = Admin.sample(serving.admin(), "baton_memory_limit_bytes{area=\"heap\"}");
    assertThat(heap)
        .as("the heap bin/baton chose without a container limit: 96 MiB")
        .isBetween(80.0 * (1 << 20), 96.0 * (1 << 20));
    assertThat(Admin.sample(serving.admin(), "baton_memory_limit_bytes{area=\"direct\"}"))
        .isEqualTo(64.0 * (1 << 20));
    String stderr = Files.readString(fixture.dir().resolve("run.err"));
    assertThat(stderr)
        .as("without a cache, run says how to make one")
        .contains("no start-up cache for this jar and JVM")
        .contains("baton startup-cache")
        .doesNotContain("the heap is not sized");
    baton.destroy();
    assertThat(baton.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void batonHeapOverridesTheHeapItChooses() throws Exception {
    Result flags =
        run(Map.of("BATON_HEAP", "48m", "BATON_JAVA_OPTS", "-XX:+PrintFlagsFinal"), "version");
    assertThat(flags.exitCode()).isZero();
    assertThat(flags.output())
        .containsPattern("MaxHeapSize\\s+=\\s+" + (48L << 20) + "\\b")
        .as("the young generation, a sixth of the heap (8 MiB at least)")
        .containsPattern("MaxNewSize\\s+=\\s+" + (8L << 20) + "\\b")
        .containsPattern("MaxDirectMemorySize\\s+=\\s+" + (64L << 20) + "\\b")
        .containsPattern("UseSerialGC\\s+=\\s+true")
        .containsPattern("ExitOnOutOfMemoryError\\s+=\\s+true");
  }

  @Test
  void theDemoRunsWithTheTestKitThatTheCheckoutBuilt() throws Exception {
    // The README's first command (run-demo.sh ends in `bin/baton demo`): baton.jar does not hold
    // the demo; it loads testkit-cli/target/baton-testkit.jar for it (cli.TestKitCommands).
    Result demo =
        run(
            Map.of("BATON_CACHE_DIR", fixture.dir().resolve("cache").toString()),
            "demo",
            "--handoffs",
            "1",
            "--seconds",
            "4");

    assertThat(demo.exitCode()).as("baton demo: %s", demo.output()).isZero();
    assertThat(demo.output())
        .contains("RESULT: PASS — zero failed requests, every id exactly once");
  }

  @Test
  void aJarWithoutTheTestKitBesideItSaysWhereItLooked() throws Exception {
    Path alone = Files.createDirectories(fixture.dir().resolve("alone")).resolve("baton.jar");
    Files.copy(BatonFixture.JAR, alone);

    Result upstream =
        run(
            Map.of("BATON_JAR", alone.toString(), "BATON_TESTKIT_JAR", ""),
            "test-upstream",
            "--port",
            "0");

    assertThat(upstream.exitCode()).as("baton test-upstream: %s", upstream.output()).isEqualTo(2);
    assertThat(upstream.output())
        .contains(
            "baton test-upstream: the test kit (baton-testkit.jar) is not installed (looked at: "
                + alone.resolveSibling("baton-testkit.jar")
                + "); put it beside baton.jar or name it in $BATON_TESTKIT_JAR");
  }

  private record Result(int exitCode, String output) {}

  private Result run(Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(fixture.dir(), "bin-baton-", ".out");
    Process p = builder(env, args).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    started.add(p);
    assertThat(p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS))
        .as("bin/baton %s finished", List.of(args))
        .isTrue();
    return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
  }

  private Process start(Map<String, String> env, String... args) throws IOException {
    Process p =
        builder(env, args)
            .redirectOutput(fixture.dir().resolve("run.out").toFile())
            .redirectError(fixture.dir().resolve("run.err").toFile())
            .start();
    started.add(p);
    return p;
  }

  private ProcessBuilder builder(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectInput(new File("/dev/null"));
    builder.environment().put("BATON_JAR", BatonFixture.JAR.toString());
    builder.environment().put("JAVA", ProcessHandle.current().info().command().orElseThrow());
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().putAll(env);
    return builder;
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }
}
