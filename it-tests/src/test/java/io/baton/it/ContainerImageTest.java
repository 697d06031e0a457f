package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.ContainerImages;
import io.baton.it.support.DumpLogsOnFailure;
import io.baton.it.support.Podman;
import io.baton.sidecar.http2.H2TestClient;
import io.baton.sidecar.testsupport.TestCertificates;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.client.TlsClient;
import io.baton.testkit.process.BatonConfigFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real image, built on this machine (deploy/docker/build-local.sh through {@link
 * ContainerImages}) and run with podman the way the manifests run it: a pod whose containers share
 * the network namespace, Baton's config mounted at /etc/baton, the run directory a volume at
 * /run/baton, the image's own entrypoint and command. Requests come from this JVM to ports the pod
 * publishes on 127.0.0.1 only.
 */
@Timeout(180)
@ExtendWith(DumpLogsOnFailure.class)
class ContainerImageTest {

  private static final String CONFIG_DIR = "/etc/baton";
  private static final String CACHE_DIR = "/opt/baton/aot";
  private static final Duration START = Duration.ofSeconds(60);
  private static final Pattern SERVING =
      Pattern.compile("(?m)^baton serving generation=(\\d+) pid=(\\d+)");

  private Podman podman;

  /** Mounted read-only at /etc/baton: the config and the TLS files. */
  private Path dir;

  @BeforeAll
  static void images() {
    ContainerImages.ensureBuilt();
  }

  @BeforeEach
  void setUp(TestInfo test) throws IOException {
    podman = new Podman("ContainerImageTest-" + test.getTestMethod().orElseThrow().getName());
    // World-readable: the container's uid 10001 reads it through the bind mount.
    dir =
        Files.createTempDirectory(
            "baton-image-it-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
  }

  @AfterEach
  void tearDown() throws IOException {
    try {
      podman.close();
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  @Test
  void imageRunsBatonAsUid10001() {
    writeConfig(config());
    String pod = podWithUpstream();
    String baton = startBaton(pod, "baton", podman.volumeCreate("run"));
    awaitServing(baton, 1);

    assertThat(podman.inspect(ContainerImages.BATON, "{{.Config.User}}"))
        .as("USER of %s", ContainerImages.BATON)
        .isEqualTo("10001:10001");
    // The uid of the real processes as the host's kernel sees them: the supervisor (PID 1) and
    // the generation it started.
    List<String> processes =
        podman
            .podman(Podman.DEFAULT_TIMEOUT, List.of("top", baton, "huser", "args"))
            .stdout()
            .lines()
            .skip(1)
            .filter(l -> !l.isBlank())
            .toList();
    assertThat(processes)
        .as("processes of %s (podman top)", baton)
        .anyMatch(l -> l.contains(" launch --standby "))
        .anyMatch(l -> l.contains(" run --config /etc/baton/baton.yaml"))
        .allMatch(l -> l.split("\\s+")[0].equals("10001"));
    assertThat(podman.exec(baton, "cat", "/proc/1/status"))
        .as("/proc/1/status in %s", baton)
        .containsPattern("(?m)^Uid:\\s+10001\\s+10001\\s+10001\\s+10001$");
  }

  @Test
  void batonVersionProtocolWorksInTheImage() throws Exception {
    String version =
        podman.run("version", List.of(), ContainerImages.BATON, "version", "--protocol");
    assertThat(podman.waitForExit(version, START))
        .as(
            "exit code of `baton version --protocol` in %s: %s",
            ContainerImages.BATON, podman.logs(version))
        .isZero();
    // The same jar on this machine's JVM says the same.
    Process host =
        new ProcessBuilder("java", "-jar", BatonFixture.JAR.toString(), "version", "--protocol")
            .redirectErrorStream(true)
            .start();
    assertThat(host.waitFor(60, TimeUnit.SECONDS))
        .as("`java -jar baton.jar version --protocol` on the host ended")
        .isTrue();
    String expected =
        new String(host.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(expected).as("protocol version from the host's jar").matches("\\d+\\.\\d+");
    assertThat(podman.logs(version).strip())
        .as("protocol version from the image")
        .isEqualTo(expected);
  }

  @Test
  void theJvmIsTheJlinkedJdk25AndUsesTheAotCacheTrainedInTheImage() {
    String version = runToEnd("java-version", List.of("--entrypoint", "java"), "--version");
    assertThat(version).as("java --version in the image").contains("Temurin-25.");
    // jlink writes a release file of its own, naming the modules it linked.
    String release =
        runToEnd("release", List.of("--entrypoint", "cat"), "/opt/java/openjdk/release");
    assertThat(release)
        .as("/opt/java/openjdk/release")
        .contains("JAVA_VERSION=\"25.")
        .contains("MODULES=\"java.base ");
    assertThat(
            runToEnd("bin", List.of("--entrypoint", "ls"), "/opt/java/openjdk/bin")
                .lines()
                .toList())
        .as("/opt/java/openjdk/bin: a runtime, not a JDK")
        .contains("java")
        .doesNotContain("javac", "jlink", "jshell", "jar");
    String modules = runToEnd("modules", List.of("--entrypoint", "java"), "--list-modules");
    // Trimmed: what Baton needs at run time, not the JDK's tools nor the desktop.
    assertThat(modules)
        .as("java --list-modules in the image")
        .contains("java.base@25.", "jdk.unsupported@", "java.management@", "java.naming@")
        .doesNotContain("java.desktop@", "jdk.compiler@", "jdk.jlink@");
    String env = podman.inspect(ContainerImages.BATON, "{{range .Config.Env}}{{println .}}{{end}}");
    assertThat(env)
        .as("environment of %s", ContainerImages.BATON)
        .contains("BATON_CACHE_DIR=" + CACHE_DIR);
    String cache =
        runToEnd("cache", List.of("--entrypoint", "sh"), "-c", "ls " + CACHE_DIR + "/baton-*.aot")
            .strip();
    assertThat(cache)
        .as("the start-up cache bin/baton looks for")
        .matches(CACHE_DIR + "/baton-\\d+-\\d+-jdk25[.0-9_]*\\.aot");

    // AOTMode=on makes a cache that cannot be used (another JVM build, another jar) a start-up
    // error instead of a silent slow start; the classes then come from the cache. bin/baton puts
    // -XX:AOTCache first, BATON_JAVA_OPTS after it.
    String aot =
        runToEnd(
            "aot",
            List.of("-e", "BATON_JAVA_OPTS=-XX:AOTMode=on -Xlog:aot,class+load"),
            "version",
            "--protocol");
    assertThat(aot).as("`baton version` with -XX:AOTMode=on").contains("Opened AOT cache " + cache);
    long fromCache = aot.lines().filter(l -> l.contains("source: shared objects file")).count();
    assertThat(fromCache)
        .as("classes loaded from the AOT cache by `baton version`")
        .isGreaterThan(1000);

    // And a Baton started by the image's own entrypoint and options maps it: the supervisor and
    // the generation it started.
    writeConfig(config());
    String pod = podWithUpstream();
    String baton = startBaton(pod, "baton", podman.volumeCreate("run"));
    String generationPid = awaitServing(baton, 1).group(2);
    for (String pid : List.of("1", generationPid)) {
      assertThat(podman.exec(baton, "cat", "/proc/" + pid + "/maps"))
          .as("/proc/%s/maps in %s", pid, baton)
          .contains(CACHE_DIR + "/baton-");
    }
  }

  @Test
  void aContainerProxiesToATestUpstreamInAnotherContainerOfThePod() throws IOException {
    writeConfig(config());
    String pod = podWithUpstream("-p", "127.0.0.1::8080");
    String baton = startBaton(pod, "baton", podman.volumeCreate("run"));
    awaitServing(baton, 1);
    assertThat(podman.inspect(baton, "{{.Pod}}"))
        .isEqualTo(podman.inspect(podman.name("upstream"), "{{.Pod}}"));

    try (RawHttp http = new RawHttp(published(pod, 8080))) {
      http.send("GET /load/through-the-pod HTTP/1.1\r\nHost: test\r\n\r\n");
      RawHttp.Response response = http.read();
      assertThat(response.status())
          .as("status of GET /load/through-the-pod through %s", baton)
          .isEqualTo(200);
      // The test upstream's answer: it ran in the other container.
      assertThat(response.bodyText()).isEqualTo("ok through-the-pod\n");
      assertThat(response.header("x-baton-generation")).isEqualTo("1");
    }
  }

  @Test
  void tlsAndH2cGoThroughTheImagesJlinkedRuntime() throws Exception {
    TestCertificates.Pair web = TestCertificates.selfSigned(dir, "web", "web.localhost");
    // The bind mount keeps the host's modes: the container's uid 10001 must read the key.
    Files.setPosixFilePermissions(web.privateKey(), PosixFilePermissions.fromString("rw-r--r--"));
    writeConfig(
        config()
            .httpsListener(
                "tls",
                "0.0.0.0:8443",
                "backend",
                Path.of(CONFIG_DIR, "web.crt"),
                Path.of(CONFIG_DIR, "web.key")));
    String pod = podWithUpstream("-p", "127.0.0.1::8080", "-p", "127.0.0.1::8443");
    String baton = startBaton(pod, "baton", podman.volumeCreate("run"));
    awaitServing(baton, 1);

    // TLS: the listener's OpenSSL engine (netty-tcnative) and the JDK's key handling in the image.
    try (RawHttp https =
        new RawHttp(
            TlsClient.connect(
                TlsClient.trusting(web.certificate()), published(pod, 8443), "localhost"),
            64 * 1024)) {
      https.send("GET /load/over-tls HTTP/1.1\r\nHost: localhost\r\n\r\n");
      RawHttp.Response response = https.read();
      assertThat(response.status())
          .as("status of GET /load/over-tls through the TLS listener of %s", baton)
          .isEqualTo(200);
      assertThat(response.bodyText()).isEqualTo("ok over-tls\n");
    }
    // h2c with prior knowledge on the plain listener.
    try (H2TestClient h2c = new H2TestClient(published(pod, 8080))) {
      H2TestClient.Response response = h2c.get("/load/over-h2c", null).get(30, TimeUnit.SECONDS);
      assertThat(response.status())
          .as("status of an h2c stream to /load/over-h2c through %s", baton)
          .isEqualTo("200");
      assertThat(response.bodyText()).isEqualTo("ok over-h2c\n");
    }
  }

  /**
   * The handoff, junixsocket's fd passing and the admin gRPC API in the jlinked runtime, between
   * two containers of a pod that shares its process namespace ({@code shareProcessNamespace: true}
   * in Kubernetes): each side sees the other's pid, both live in one pid namespace, and the pids in
   * Hello and Welcome are checked against the kernel's. Without a shared process namespace (the
   * manifests' way, every generation pid 1) the same steps run under load in PodSlotsTest.
   */
  @Test
  void aSecondContainerOfAPodSharingItsProcessNamespaceTakesOver() throws IOException {
    handOffBetweenTwoContainers("--share", "net,ipc,uts,pid");
  }

  private void handOffBetweenTwoContainers(String... podOptions) throws IOException {
    writeConfig(config());
    String[] options =
        Stream.concat(Stream.of("-p", "127.0.0.1::8080"), Stream.of(podOptions))
            .toArray(String[]::new);
    String pod = podWithUpstream(options);
    String run = podman.volumeCreate("run");
    String first = startBaton(pod, "baton-a", run);
    awaitServing(first, 1);
    // The second slot of deploy/kubernetes: the same image, config and run directory.
    String second = startBaton(pod, "baton-b", run);
    awaitServing(second, 2);

    // Generation 1 drained and exited; its supervisor stays on standby, the container runs on.
    await()
        .atMost(START)
        .untilAsserted(() -> assertThat(podman.logs(first)).contains("standing by until SIGTERM"));
    assertThat(podman.inspect(first, "{{.State.Running}}"))
        .as("%s (standby) still running", first)
        .isEqualTo("true");
    // The admin API (gRPC over admin.sock) answers from the new process.
    assertThat(
            podman.exec(
                second,
                "baton",
                "status",
                "--config",
                CONFIG_DIR + "/baton.yaml",
                "--output",
                "json"))
        .as("baton status in %s", second)
        .contains("\"generation\":\"2\"", "\"phase\":\"SERVING\"");
    try (RawHttp http = new RawHttp(published(pod, 8080))) {
      http.send("GET /load/after-handoff HTTP/1.1\r\nHost: test\r\n\r\n");
      RawHttp.Response response = http.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("x-baton-generation"))
          .as("generation answering after the handoff")
          .isEqualTo("2");
    }
  }

  /**
   * bin/baton sizes the JVM from the container's memory limit: a fifth for the heap and an eighth
   * for direct memory (two generations share the pod's node during every handoff), not the JVM's
   * own quarter.
   */
  @Test
  void aContainerMemoryLimitSizesTheHeapAndDirectMemory() {
    String flags =
        runToEnd(
            "heap",
            List.of("--memory", "300m", "-e", "BATON_JAVA_OPTS=-XX:+PrintFlagsFinal"),
            "version");
    assertThat(flags)
        .as("flags of `baton version` in a container limited to 300 MiB")
        .containsPattern("MaxHeapSize\\s+=\\s+" + (60L << 20) + "\\b")
        .containsPattern("MaxDirectMemorySize\\s+=\\s+" + (37L << 20) + "\\b")
        .containsPattern("UseSerialGC\\s+=\\s+true");
  }

  @Test
  void theEmptyImageExitsZeroOnSigtermAtOnce() {
    // Kruise runs the empty image with the Baton container's command and arguments.
    String empty =
        podman.run(
            "empty",
            List.of(),
            ContainerImages.EMPTY,
            "launch",
            "--standby",
            "--",
            "run",
            "--config",
            CONFIG_DIR + "/baton.yaml");
    // The trap is set before the first sleep starts: once sleep runs, SIGTERM is handled.
    await()
        .atMost(START)
        .untilAsserted(
            () ->
                assertThat(
                        podman
                            .podman(Podman.DEFAULT_TIMEOUT, List.of("top", empty, "huser", "args"))
                            .stdout())
                    .as("processes of %s", empty)
                    .contains("sleep 3600"));
    assertThat(podman.inspect(ContainerImages.EMPTY, "{{.Config.User}}")).isEqualTo("10001:10001");

    long start = System.nanoTime();
    // A 30 s grace like a pod's: a container that ignored SIGTERM would take all of it.
    podman.stop(empty, Duration.ofSeconds(30));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertThat(took).as("time for %s to stop on SIGTERM", empty).isLessThan(Duration.ofSeconds(5));
    assertThat(podman.inspect(empty, "{{.State.ExitCode}}"))
        .as("exit code of %s after SIGTERM", empty)
        .isEqualTo("0");
  }

  /**
   * A config like the manifests': run directory in the /run/baton volume, listener on all
   * addresses.
   */
  private BatonConfigFile config() {
    return BatonConfigFile.builder(dir)
        .runDir(Path.of("/run/baton/control"))
        .admin("127.0.0.1:9901")
        .servingHeader(true)
        .drainTimeout("10s")
        .httpListener("web", "0.0.0.0:8080", "backend")
        .cluster("backend", "127.0.0.1:9000");
  }

  private void writeConfig(BatonConfigFile config) {
    try {
      Files.setPosixFilePermissions(config.write(), PosixFilePermissions.fromString("rw-r--r--"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A pod (podman pod create {@code options}: ports published on 127.0.0.1), with the test upstream
   * (the image with the test kit) on its loopback port 9000.
   */
  private String podWithUpstream(String... options) {
    String pod = podman.podCreate("pod", options);
    String upstream =
        podman.run(
            "upstream",
            List.of("--pod", pod),
            ContainerImages.TESTKIT,
            "test-upstream",
            "--port",
            "9000");
    awaitLog(upstream, "upstream listening");
    return pod;
  }

  /**
   * Baton as the manifests run it: the image's entrypoint and command, config and run directory
   * mounted.
   */
  private String startBaton(String pod, String role, String runVolume) {
    return podman.run(
        role,
        List.of(
            "--pod", pod, "-v", dir + ":" + CONFIG_DIR + ":ro", "-v", runVolume + ":/run/baton"),
        ContainerImages.BATON);
  }

  private Matcher awaitServing(String container, int generation) {
    awaitLog(container, "baton serving generation=" + generation + " ");
    Matcher m = SERVING.matcher(podman.logs(container));
    while (m.find()) {
      if (m.group(1).equals(String.valueOf(generation))) {
        return m;
      }
    }
    throw new AssertionError("no serving line of generation " + generation + " in " + container);
  }

  /**
   * Waits until the container's log holds {@code text}; fails at once, with the log, if it exited.
   */
  private void awaitLog(String container, String text) {
    await()
        .atMost(START)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              String logs = podman.logs(container);
              if (logs.contains(text)) {
                return true;
              }
              if (!podman.inspect(container, "{{.State.Running}}").equals("true")) {
                throw new AssertionError(
                    container
                        + " exited (code "
                        + podman.inspect(container, "{{.State.ExitCode}}")
                        + ") before logging '"
                        + text
                        + "'; its log:\n"
                        + podman.logs(container));
              }
              return false;
            });
  }

  /** Runs a container of the Baton image to its end; its output; fails unless it exits 0. */
  private String runToEnd(String role, List<String> options, String... command) {
    String c = podman.run(role, options, ContainerImages.BATON, command);
    int exit = podman.waitForExit(c, START);
    String logs = podman.logs(c);
    assertThat(exit)
        .as(
            "exit code of %s in %s; its output:\n%s",
            String.join(" ", command), ContainerImages.BATON, logs)
        .isZero();
    return logs;
  }

  private InetSocketAddress published(String pod, int port) {
    return new InetSocketAddress("127.0.0.1", podman.publishedPort(pod, port));
  }
}
