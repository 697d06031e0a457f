package io.baton.it.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A pod as Baton's manifests describe it, played with podman: one network namespace (the pod's),
 * the test upstream in a container of its own on the pod's loopback port 9000, and the Baton
 * containers a test starts, each mounting the same run directory volume at {@code /run/baton} and
 * the config at {@link #CONFIG}. The volume is a host directory, mode 0777 like a Kubernetes {@code
 * emptyDir}; Baton makes its run directory {@code /run/baton/control} in it, 0700.
 *
 * <p>The pod publishes the listener (8080) and the admin port (9901) on 127.0.0.1 of the host,
 * where the test's load and scrapes come from. {@link #close()} deletes the host directories; the
 * containers and the pod belong to the {@link Podman} session, which removes them.
 */
public final class PodDeployment implements AutoCloseable {

  /** Where every Baton container finds the config (a ConfigMap in the manifests). */
  public static final String CONFIG = "/etc/baton/baton.yaml";

  /** The run directory inside the containers, as in deploy/kubernetes. */
  public static final String RUN_DIR = "/run/baton/control";

  private static final Duration START = Duration.ofSeconds(90);

  private final Podman podman;
  private final String pod;
  private final Path hostDir;
  private final Path volume;
  private final Path config;
  private final InetSocketAddress web;
  private final InetSocketAddress admin;

  private PodDeployment(
      Podman podman,
      String pod,
      Path hostDir,
      Path volume,
      Path config,
      InetSocketAddress web,
      InetSocketAddress admin) {
    this.podman = podman;
    this.pod = pod;
    this.hostDir = hostDir;
    this.volume = volume;
    this.config = config;
    this.web = web;
    this.admin = admin;
  }

  /**
   * Creates the pod (named by {@code role}) and its upstream, and writes the config Baton will
   * read.
   */
  public static PodDeployment start(Podman podman, String role) throws IOException {
    Path hostDir = Files.createTempDirectory("baton-pod-");
    Path volume = hostDir.resolve("run-baton");
    Files.createDirectory(volume);
    Files.setPosixFilePermissions(volume, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path config = hostDir.resolve("baton.yaml");
    Files.writeString(
        config,
        """
        runDir: %s
        admin:
          address: 0.0.0.0:9901
          servingHeader: true
        drain:
          timeout: 30s
        listeners:
          - name: web
            address: 0.0.0.0:8080
            protocol: http
            cluster: app
        clusters:
          - name: app
            endpoints: [127.0.0.1:9000]
        """
            .formatted(RUN_DIR));
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(hostDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    String pod = podman.podCreate(role, "-p", "127.0.0.1::8080", "-p", "127.0.0.1::9901");
    String upstream =
        podman.run(
            role + "-upstream",
            List.of("--pod", pod),
            ContainerImages.TESTKIT,
            "test-upstream",
            "--port",
            "9000");
    await()
        .atMost(START)
        .until(() -> podman.logs(upstream).contains("upstream listening 127.0.0.1:9000"));
    InetSocketAddress web = new InetSocketAddress("127.0.0.1", podman.publishedPort(pod, 8080));
    InetSocketAddress admin = new InetSocketAddress("127.0.0.1", podman.publishedPort(pod, 9901));
    return new PodDeployment(podman, pod, hostDir, volume, config, web, admin);
  }

  public String pod() {
    return pod;
  }

  /** The pod's listener {@code web} as the host reaches it. */
  public InetSocketAddress webAddress() {
    return web;
  }

  /** The pod's admin port as the host reaches it (it moves with each handoff). */
  public InetSocketAddress adminAddress() {
    return admin;
  }

  /**
   * What {@code /ready} on the pod's admin port answers: 200 while a process of the pod accepts.
   */
  public int readyStatus() throws IOException {
    return Admin.readyStatus(admin);
  }

  /**
   * The podman options that put a container in this pod with the run directory and the config
   * mounted.
   */
  public List<String> containerOptions() {
    return List.of("--pod", pod, "-v", volume + ":/run/baton", "-v", config + ":" + CONFIG + ":ro");
  }

  /**
   * Starts a Baton container of this pod running {@code image} with {@code args} (the image's
   * entrypoint stays).
   */
  public String startBaton(String role, String image, List<String> args) {
    return podman.run(role, containerOptions(), image, args.toArray(String[]::new));
  }

  /** {@link #startBaton} with the Baton image. */
  public String startGeneration(String role, List<String> args) {
    return startBaton(role, ContainerImages.BATON, args);
  }

  /** Waits for {@code container}'s {@code baton serving generation=N} line and returns it. */
  public ServingLine awaitServing(String container, long generation, Duration timeout) {
    String prefix = ServingLine.PREFIX + "generation=" + generation + " ";
    return await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> servingLine(container, prefix), Optional::isPresent)
        .orElseThrow();
  }

  private Optional<ServingLine> servingLine(String container, String prefix) {
    return podman
        .logs(container)
        .lines()
        .filter(l -> l.startsWith(prefix))
        .findFirst()
        .map(ServingLine::parse);
  }

  /** The effective uid of {@code container}'s pid 1, read from its /proc. */
  public long processUid(String container) {
    String status = podman.exec(container, "cat", "/proc/1/status");
    String uids = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
    return Long.parseLong(uids.substring(4).trim().split("\\s+")[1]);
  }

  /** A load from the host through the pod's published listener port, every request with an id. */
  public LoadClient load(LoadClient.Mode mode, int workers, String idPrefix) {
    return LoadClient.builder(web.getHostString(), web.getPort())
        .workers(workers)
        .mode(mode)
        .idPrefix(idPrefix)
        .maxDuration(Duration.ofMinutes(8))
        .build();
  }

  /**
   * The run directory holds the active process's files and nothing else: its two published sockets
   * with their own names and its instance lock (listen.sock and conn.sock are gone once the
   * predecessor left).
   */
  public void assertOnlyActiveFilesInRunDirectory(String instanceId, Duration timeout) {
    Set<String> expected =
        new TreeSet<>(
            Set.of(
                "reconfig.sock",
                "reconfig.sock." + instanceId + ".1",
                "admin.sock",
                "admin.sock." + instanceId,
                "instance." + instanceId + ".lock",
                "arrival.lock"));
    Path run = volume.resolve("control");
    await()
        .atMost(timeout)
        .untilAsserted(() -> assertThat(files(run)).as("files in %s", RUN_DIR).isEqualTo(expected));
  }

  /**
   * Every id the loads sent arrived at the pod's upstream (asked through the pod's listener),
   * exactly once.
   */
  public void assertEveryIdArrivedExactlyOnce(LoadClient... loads) throws IOException {
    Set<String> sent = new HashSet<>();
    long count = 0;
    for (LoadClient load : loads) {
      sent.addAll(load.idsSent());
      count += load.idsSent().size();
    }
    assertThat(sent).as("ids are unique across the loads").hasSize((int) count);
    Map<String, Integer> arrived;
    try (RawHttp http = new RawHttp(web)) {
      http.send("GET /ids HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n");
      RawHttp.Response response = http.read();
      assertThat(response.status()).isEqualTo(200);
      arrived = TestUpstream.parseIdCounts(response.bodyText());
    }
    assertThat(arrived.keySet())
        .as("every id sent arrived at the upstream, and nothing else")
        .isEqualTo(sent);
    assertThat(arrived.values()).as("and exactly once").allMatch(n -> n == 1);
  }

  private static Set<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /** Deletes the host directories (volume and config); the containers are the Podman session's. */
  @Override
  public void close() {
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(hostDir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    paths.forEach(p -> p.toFile().delete());
  }
}
