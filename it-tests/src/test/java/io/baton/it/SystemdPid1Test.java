package io.baton.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.it.support.BatonFixture;
import io.baton.it.support.Podman;
import io.baton.it.support.SystemdContainer;
import io.baton.it.support.SystemdContainer.TimedState;
import io.baton.it.support.SystemdContainer.UnitState;
import io.baton.testkit.client.RawHttp;
import io.baton.testkit.load.LoadClient;
import io.baton.testkit.load.LoadResult;
import io.baton.testkit.process.BatonConfigFile;
import io.baton.testkit.upstream.TestUpstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code deploy/systemd/baton.service} and {@code baton.socket} under a real systemd as PID 1: a
 * podman container of the image {@code deploy/systemd/test-image.sh} builds (Debian bookworm,
 * systemd 252, Debian's Java 17). Baton is installed in it with the commands of {@code
 * deploy/systemd/README.md} from a copy of this checkout's files, and driven with {@code systemctl}
 * while loads run from this JVM: the container shares the host's network namespace, so Baton in it
 * proxies 127.0.0.1 to this JVM's {@link TestUpstream}, which counts every request id. Nothing
 * retries: every failed request and connection counts.
 */
@Timeout(600)
class SystemdPid1Test {

  private static final String SERVICE = "baton.service";
  private static final String SOCKET = "baton.socket";
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final Path README = SystemdContainer.DEPLOY.resolve("systemd/README.md");

  /**
   * Where the container holds its copy of the checkout's files: the README's commands run there.
   */
  private static final String CHECKOUT = "/root/baton";

  // The commands of deploy/systemd/README.md, run as written (readmeShowsTheCommandsThisTestRuns
  // checks that it still says them). A port 8080 in them is the test's own free port when run.
  static final List<String> INSTALL =
      List.of(
          "install -D -m 0644 sidecar/target/baton.jar /opt/baton/baton.jar",
          "install -D -m 0644 testkit-cli/target/baton-testkit.jar /opt/baton/baton-testkit.jar",
          "install -m 0755 bin/baton bin/baton-startup-cache /usr/local/bin/",
          "install -D -m 0644 deploy/examples/baton.yaml /etc/baton/baton.yaml",
          "install -m 0644 deploy/systemd/baton.service deploy/systemd/baton.socket"
              + " /etc/systemd/system/",
          "systemctl daemon-reload");
  static final List<String> SOCKET_ADDRESS =
      List.of(
          "mkdir -p /etc/systemd/system/baton.socket.d",
          "printf '[Socket]\\n"
              + "ListenStream=\\n"
              + "ListenStream=127.0.0.1:8080\\n"
              + "' > /etc/systemd/system/baton.socket.d/listen.conf",
          "systemctl daemon-reload");

  /** Optional in the README (Baton starts without it, more slowly); run by the reload test. */
  static final String STARTUP_CACHE = "baton startup-cache";

  static final String ENABLE_SERVICE = "systemctl enable --now baton.service";
  static final String ENABLE_SOCKET = "systemctl enable --now baton.socket";
  static final String RELOAD = "systemctl reload baton";
  static final String STOP = "systemctl stop baton";
  static final String RESTART = "systemctl restart baton";
  static final String SHOW = "systemctl show -p ActiveState,SubState,MainPID,StatusText baton";
  static final String STOP_ALL = "systemctl stop baton.socket baton.service";

  private static String image;

  private String testName;

  private Podman podman;
  private SystemdContainer systemd;
  private TestUpstream upstream;
  private Path dir;
  private int webPort;
  private InetSocketAddress web;
  private final List<LoadClient> loads = new ArrayList<>();
  private final List<String> heldIds = new ArrayList<>();

  /**
   * A failed test prints what systemd and Baton said, before {@link #cleanUp} removes the
   * container.
   */
  @RegisterExtension
  final AfterTestExecutionCallback dumpOnFailure =
      context -> {
        if (context.getExecutionException().isPresent() && systemd != null) {
          System.out.println(
              "----- journal of "
                  + SERVICE
                  + " and "
                  + SOCKET
                  + " in "
                  + systemd.name()
                  + " -----\n"
                  + systemd.journal(SERVICE, SOCKET)
                  + "\n----- states seen by systemctl show -----");
          systemd.states().forEach(System.out::println);
        }
      };

  @BeforeEach
  void rememberTestName(TestInfo test) {
    testName = "SystemdPid1Test-" + test.getTestMethod().orElseThrow().getName();
  }

  /**
   * Every test but the README's: a booted container with Baton installed, the upstream, the state
   * watcher.
   */
  private void bootSystemdAndInstallBaton() throws IOException {
    bootSystemdAndInstallBaton("30s"); // Baton's default, which TimeoutStopSec=45 allows for
  }

  private void bootSystemdAndInstallBaton(String drainTimeout) throws IOException {
    dir = Files.createTempDirectory("baton-systemd-it-");
    upstream = TestUpstream.start(0);
    webPort = freePort();
    web = new InetSocketAddress("127.0.0.1", webPort);
    podman = new Podman(testName);
    if (image == null) {
      image = SystemdContainer.testImage();
    }
    systemd = SystemdContainer.boot(podman, image);
    systemd.copyIn(BatonFixture.JAR, CHECKOUT + "/sidecar/target/baton.jar");
    systemd.copyIn(BatonFixture.TESTKIT_JAR, CHECKOUT + "/testkit-cli/target/baton-testkit.jar");
    for (String file : List.of("baton", "baton-startup-cache")) {
      systemd.copyIn(
          SystemdContainer.DEPLOY.resolveSibling("bin").resolve(file), CHECKOUT + "/bin/" + file);
    }
    for (String file :
        List.of("systemd/baton.service", "systemd/baton.socket", "examples/baton.yaml")) {
      systemd.copyIn(SystemdContainer.DEPLOY.resolve(file), CHECKOUT + "/deploy/" + file);
    }
    runReadme(INSTALL);
    // "then edit it": the test's listener, admin address and upstream instead of the example's.
    Path config =
        BatonConfigFile.builder(dir)
            .runDir(Path.of("/run/baton")) // RuntimeDirectory=baton
            .admin("127.0.0.1:" + freePort())
            .servingHeader(true)
            .drainTimeout(drainTimeout)
            .httpListener("web", "127.0.0.1:" + webPort, "backend")
            // Longer than any held request of these tests is held (the default 15s would answer
            // 504).
            .clusterWithRequestTimeout("backend", "60s", "127.0.0.1:" + upstream.port())
            .write();
    systemd.copyIn(config, "/etc/baton/baton.yaml");
    systemd.watchStates(SERVICE);
  }

  @AfterEach
  void cleanUp() throws IOException {
    loads.forEach(LoadClient::stop);
    try {
      if (podman != null) {
        podman.close();
      }
    } finally {
      if (upstream != null) {
        upstream.close();
      }
      if (dir != null) {
        try (Stream<Path> paths = Files.walk(dir)) {
          paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  @Test
  void readmeShowsTheCommandsThisTestRuns() throws IOException {
    String readme = Files.readString(README);
    List<String> commands = new ArrayList<>(INSTALL);
    commands.addAll(SOCKET_ADDRESS);
    commands.addAll(
        List.of(
            STARTUP_CACHE, ENABLE_SERVICE, ENABLE_SOCKET, RELOAD, STOP, RESTART, SHOW, STOP_ALL));
    for (String command : commands) {
      assertThat(readme)
          .as("%s: the command this test runs, as a user would type it", README)
          .contains(command);
    }
    assertThat(readme)
        .as("%s names the systemd version the test ran", README)
        .contains("systemd 252");
  }

  @Test
  void startReportsActiveOnlyOnceBatonServes() throws IOException {
    bootSystemdAndInstallBaton();
    long issued = System.currentTimeMillis();
    runReadme(List.of(ENABLE_SERVICE)); // Type=notify: returns once Baton said READY=1

    // Without socket activation nobody listens on the port before Baton binds it: a request made
    // right after the start job finished is answered only if READY=1 came after Baton served.
    assertThat(get("/load/right-after-start").status())
        .as("a request right after `%s` returned", ENABLE_SERVICE)
        .isEqualTo(200);
    UnitState state = show();
    assertThat(state.activeState() + "/" + state.subState())
        .as("%s after the start", SERVICE)
        .isEqualTo("active/running");
    assertThat(state.statusText()).as("StatusText: Baton's STATUS=").isEqualTo(serving(1));
    assertThat(systemd.commandLine(state.mainPid()))
        .as("MainPID %d runs the installed jar", state.mainPid())
        .contains("-jar /opt/baton/baton.jar run --config /etc/baton/baton.yaml");
    List<UnitState> seen = statesSince(issued);
    assertThat(seen)
        .as("states seen while starting: Baton says nothing before it serves")
        .allSatisfy(
            s -> {
              if (!s.activeState().equals("active")) {
                assertThat(s.statusText()).as("StatusText while %s", s.activeState()).isEmpty();
              }
            });
    assertThat(seen.get(seen.size() - 1)).isEqualTo(state);

    LoadClient load = startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    Awaitility.await().atMost(WAIT).until(() -> load.result().ok() >= 2000);
    stopLoadsAndAssertNothingLost();
  }

  @Test
  void reloadHandsOffWithoutFailedRequests() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(List.of(STARTUP_CACHE, ENABLE_SERVICE));
    String cache = systemd.shell("ls /opt/baton/baton-*-jdk*.jsa").strip();
    assertThat(systemd.shell("cat /proc/" + show().mainPid() + "/maps"))
        .as("the service maps the start-up cache %s", cache)
        .contains(cache);
    startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    startLoad(LoadClient.Mode.CLOSE, 2);
    List<Long> took = new ArrayList<>();
    for (int generation = 1; generation <= 3; generation++) {
      awaitMoreRequestsServed();
      took.add(reloadFrom(generation));
    }
    awaitMoreRequestsServed();
    List<LoadResult> results = stopLoadsAndAssertNothingLost();
    for (int g = 1; g <= 4; g++) {
      long generation = g;
      assertThat(results.stream().mapToLong(r -> r.servedBy(generation)).sum())
          .as("requests served by generation %d", g)
          .isPositive();
    }
    System.out.println("systemctl reload to new MainPID, ms: " + took + "; " + results);
  }

  @Test
  void aSecondReloadRightAfterTheFirstIsAHandoffToo() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(List.of(ENABLE_SERVICE));
    startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    awaitMoreRequestsServed();
    // The second reload job waits for the first (the unit is reloading): it is not refused as busy.
    runReadme(List.of(RELOAD + " && " + RELOAD));
    UnitState after = show();
    assertThat(after.activeState() + "/" + after.subState()).isEqualTo("active/running");
    assertThat(after.statusText()).as("after two reloads in a row").isEqualTo(serving(3));
    awaitMoreRequestsServed();
    stopLoadsAndAssertNothingLost();
  }

  @Test
  void reloadWithAnInvalidConfigFailsAndTheServingGenerationServesOn() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(List.of(ENABLE_SERVICE));
    startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    awaitMoreRequestsServed();
    UnitState before = show();
    systemd.shell("echo 'drian:' >> /etc/baton/baton.yaml");
    Podman.Result reload = systemd.trySystemctl(WAIT, "reload", "baton");
    assertThat(reload.exitCode())
        .as("`%s` with an invalid config; stderr: %s", RELOAD, reload.stderr())
        .isEqualTo(1);
    assertThat(reload.stderr()).contains("Job for baton.service failed.");
    // Exit code 4 is Baton's "refused"; systemd names it by its LSB meaning.
    assertThat(systemd.journal(SERVICE))
        .as("the reload's log names the key")
        .contains("baton upgrade: invalid_config")
        .contains("drian")
        .contains("Control process exited, code=exited, status=4/NOPERMISSION")
        .contains("Reload failed for baton.service");
    UnitState after = show();
    assertThat(after).as("%s after the refused reload", SERVICE).isEqualTo(before);
    awaitMoreRequestsServed();
    stopLoadsAndAssertNothingLost();
  }

  @Test
  void reloadWhoseNewGenerationCannotServeFailsAndTheOldOneServesOn() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(List.of(ENABLE_SERVICE));
    startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    awaitMoreRequestsServed();
    UnitState before = show();
    // A config that loads, with a second listener on a port this JVM holds: the check before the
    // handoff passes, the new generation fails to bind it and exits without taking over.
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String yaml =
          Files.readString(dir.resolve("baton.yaml"))
              .replace(
                  "listeners:\n",
                  "listeners:\n  - name: taken\n"
                      + "    address: \"127.0.0.1:"
                      + taken.getLocalPort()
                      + "\"\n    protocol: http\n    cluster: backend\n");
      systemd.copyIn(
          Files.writeString(dir.resolve("baton-taken.yaml"), yaml), "/etc/baton/baton.yaml");
      Podman.Result reload = systemd.trySystemctl(WAIT, "reload", "baton");
      assertThat(reload.exitCode())
          .as("`%s` whose new generation cannot bind; stderr: %s", RELOAD, reload.stderr())
          .isEqualTo(1);
      assertThat(reload.stderr()).contains("Job for baton.service failed.");
    }
    assertThat(systemd.journal(SERVICE))
        .as("the reload's log")
        .contains("exited without taking over")
        .contains("Control process exited, code=exited, status=1/FAILURE")
        .contains("Reload failed for baton.service");
    UnitState after = show();
    assertThat(after.activeState() + "/" + after.subState()).isEqualTo("active/running");
    assertThat(after.mainPid()).as("MainPID after the failed reload").isEqualTo(before.mainPid());
    assertThat(after.statusText())
        .as("StatusText after the failed reload")
        .startsWith(serving(1) + " (handoff failed: ");
    awaitMoreRequestsServed();
    stopLoadsAndAssertNothingLost();
  }

  @Test
  void unitFilesLoadWithoutWarnings() throws IOException {
    bootSystemdAndInstallBaton();
    String version = systemd.shell("systemctl --version").lines().findFirst().orElse("");
    assertThat(version)
        .as("systemctl --version: the version %s names", README)
        .startsWith("systemd 252 ");
    Podman.Result verify =
        systemd.tryShell(
            "systemd-analyze verify /etc/systemd/system/baton.service"
                + " /etc/systemd/system/baton.socket");
    assertThat(verify.exitCode()).as("systemd-analyze verify: %s", verify.stderr()).isZero();
    assertThat(verify.stdout() + verify.stderr()).as("systemd-analyze verify's output").isBlank();
    // systemd names the file and line of a setting it ignores, e.g.
    // "/etc/systemd/system/baton.socket:14:
    // Unknown key 'NonBlocking' in section [Socket], ignoring."
    assertThat(systemd.journal())
        .as("what systemd said when it loaded the units")
        .doesNotContain("/etc/systemd/system/baton.");
  }

  @Test
  void socketActivationQueuesConnectionsUntilBatonServes() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(SOCKET_ADDRESS);
    runReadme(List.of(ENABLE_SOCKET));
    assertThat(systemd.activeAndSubState(SOCKET)).isEqualTo("active/listening");
    assertThat(show().activeState())
        .as("%s before the first connection", SERVICE)
        .isEqualTo("inactive");

    // systemd holds the listening socket: these connect at once, and their requests wait in its
    // queue while the first one makes systemd start Baton.
    List<RawHttp> queued = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        RawHttp c = new RawHttp(web);
        queued.add(c);
        c.send(
            "GET /load/queued-"
                + i
                + " HTTP/1.1\r\nHost: t\r\nX-Request-Id: queued-"
                + i
                + "\r\n\r\n");
        heldIds.add("queued-" + i);
      }
      for (RawHttp c : queued) {
        RawHttp.Response r = c.read();
        assertThat(r.status()).as("a request sent before Baton ran").isEqualTo(200);
        assertThat(r.header("x-baton-generation")).isEqualTo("1");
      }
    } finally {
      queued.forEach(SystemdPid1Test::closeQuietly);
    }
    UnitState first =
        awaitState(s -> s.activeState().equals("active"), "active after socket activation");
    assertThat(first.statusText()).isEqualTo(serving(1));
    assertThat(systemd.journal(SERVICE))
        .as("Baton's log")
        .contains("listener web (127.0.0.1:" + webPort + ") takes systemd socket fd 3 (name web");

    startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    startLoad(LoadClient.Mode.CLOSE, 2);
    awaitMoreRequestsServed();
    long reload = reloadFrom(1);
    awaitMoreRequestsServed();

    // A restart is a stop (drain) and a start: meanwhile connections wait in systemd's queue.
    UnitState before = show();
    long issued = System.currentTimeMillis();
    runReadme(List.of(RESTART));
    long restart = System.currentTimeMillis() - issued;
    UnitState after = show();
    assertThat(after.mainPid()).as("MainPID after the restart").isNotEqualTo(before.mainPid());
    assertThat(after.statusText()).as("a restart is a cold start").isEqualTo(serving(1));
    awaitMoreRequestsServed();
    List<LoadResult> results = stopLoadsAndAssertNothingLost();
    System.out.println(
        "socket activation: reload to new MainPID "
            + reload
            + " ms, restart "
            + restart
            + " ms; "
            + results
            + "\nstates: "
            + statesSince(0));
  }

  @Test
  void stopAnswersEveryRequestInFlight() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(List.of(ENABLE_SERVICE));
    LoadClient load = startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    awaitMoreRequestsServed();
    List<RawHttp> held = sendHeldRequests(8);
    try {
      // Without baton.socket nothing queues connections for a next start: a request that starts
      // after the stop has no process to go to. So the load ends as the stop is issued; what it has
      // in flight then, and the held requests, are in flight when stop is issued.
      load.stop();
      long pid = show().mainPid();
      CompletableFuture<Podman.Result> stop =
          CompletableFuture.supplyAsync(() -> systemd.trySystemctl(WAIT, "stop", "baton"));
      // systemd says deactivating as it sends SIGTERM; Baton's STOPPING=1 and STATUS= follow.
      UnitState draining =
          awaitState(
              s ->
                  s.activeState().equals("deactivating")
                      && s.statusText().equals("generation 1 draining to stop"),
              "deactivating while generation 1 drains");
      assertThat(draining.mainPid()).isEqualTo(pid);
      assertThat(stop).as("the stop waits for the held requests").isNotDone();
      // What happens to a request that arrives now: Baton stopped accepting but keeps its
      // listening socket until it exits, so the kernel completes the connection into the queue,
      // where nobody takes it; it is reset when Baton exits (with baton.socket, the next start
      // serves it instead). Not counted as a failure: it arrived after the stop was issued.
      RawHttp late = new RawHttp(web);
      late.send("GET /load/late HTTP/1.1\r\nHost: t\r\n\r\n");
      upstream.releaseHeld();
      for (RawHttp c : held) {
        RawHttp.Response r = c.read();
        assertThat(r.status()).as("a request in flight when stop was issued").isEqualTo(200);
        assertThat(r.closes()).as("and its connection closes after it").isTrue();
      }
      Podman.Result stopped = stop.join();
      assertThat(stopped.exitCode()).as("`%s`: %s", STOP, stopped.stderr()).isZero();
      try (late) {
        late.read();
        throw new AssertionError(
            "a request sent during the stop's drain was answered (expected its connection reset"
                + " when Baton exited: nothing accepts it)");
      } catch (IOException expected) {
        System.out.println("stop: a request sent during the drain got " + expected);
      }
      assertThat(upstream.idCounts())
          .as("the late request never reached the upstream")
          .doesNotContainKey("late");
    } finally {
      held.forEach(SystemdPid1Test::closeQuietly);
    }
    UnitState after = show();
    assertThat(after.activeState() + "/" + after.subState()).isEqualTo("inactive/dead");
    assertThat(systemd.property(SERVICE, "Result")).isEqualTo("success");
    assertThat(systemd.journal(SERVICE)).contains("generation 1 exits with 0");
    assertConnectionRefused();
    stopLoadsAndAssertNothingLost();
    System.out.println("stop: states " + statesSince(0));
  }

  @Test
  void stopAfterAReloadWaitsForTheOldGenerationsDrain() throws IOException {
    // Generation 1's deadline runs from its drain start; the test releases the held requests after
    // the reload returns and the stop is under way, which took 21 s once on a machine with a load
    // average of 21 (20s was too short then). The test waits for this deadline, so no longer.
    bootSystemdAndInstallBaton("40s"); // below TimeoutStopSec=45, which the stop must not reach
    runReadme(List.of(ENABLE_SERVICE));
    LoadClient load = startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    awaitMoreRequestsServed();
    // In flight on generation 1: it drains them after the reload, for as long as they are held.
    List<RawHttp> held = sendHeldRequests(4);
    UnitState first = show();
    try {
      runReadme(List.of(RELOAD));
      assertThat(show().statusText()).isEqualTo(serving(2));
      assertThat(systemd.processExists(first.mainPid()))
          .as("generation 1 (pid %d) drains the held requests", first.mainPid())
          .isTrue();
      awaitMoreRequestsServed();
      load.stop(); // as in stopAnswersEveryRequestInFlight: nothing queues requests for after the
      // stop
      long issued = System.currentTimeMillis();
      CompletableFuture<Podman.Result> stop =
          CompletableFuture.supplyAsync(() -> systemd.trySystemctl(WAIT, "stop", "baton"));
      // systemd says deactivating as it sends SIGTERM; Baton's STOPPING=1 and STATUS= follow.
      awaitState(
          s ->
              s.activeState().equals("deactivating")
                  && s.statusText().equals("generation 2 draining to stop"),
          "deactivating while generation 2 drains");
      // Generation 2 has nothing left to drain, but it waits for generation 1: systemd, which in
      // this cgroup v1 container waits for the main process only, must not SIGKILL generation 1.
      assertThat(stop).as("the stop waits for generation 1's held requests").isNotDone();
      upstream.releaseHeld();
      for (RawHttp c : held) {
        RawHttp.Response r = c.read();
        assertThat(r.status())
            .as("a request generation 1 drained when stop was issued")
            .isEqualTo(200);
        assertThat(r.header("x-baton-generation")).isEqualTo("1");
      }
      // The held clients keep their connections, idle: generation 1 closes them at its drain
      // deadline (they could not move to generation 2, which stops), and only then may it exit.
      Podman.Result stopped = stop.join();
      assertThat(stopped.exitCode()).as("`%s`: %s", STOP, stopped.stderr()).isZero();
      System.out.println(
          "stop after reload: `"
              + STOP
              + "` took "
              + (System.currentTimeMillis() - issued)
              + " ms");
    } finally {
      held.forEach(SystemdPid1Test::closeQuietly);
    }
    String journal = systemd.journal(SERVICE);
    assertThat(journal)
        .as("generation 1's log")
        .contains(
            "pid="
                + first.mainPid()
                + " - drain deadline of PT40S passed with 4 connections open: closing them")
        .contains("pid=" + first.mainPid() + " - drain finished in");
    // The main process exits last: once it has exited, systemd in this container does not wait
    // for the rest of the unit (it waited 45 s for a cgroup-empty event when generation 1 exited
    // 6 ms after generation 2).
    assertThat(journal)
        .as("the generations' last lines, in order")
        .containsSubsequence(
            "waiting for the older generation(s) still draining before exiting",
            "pid=" + first.mainPid() + " - generation 1 exits with 0",
            " - generation 2 exits with 0");
    assertThat(journal).as("systemd's log").doesNotContain("SIGKILL");
    assertThat(show().activeState()).isEqualTo("inactive");
    stopLoadsAndAssertNothingLost();
  }

  @Test
  void stopWithSocketActivationLeavesNewRequestsToTheNextStart() throws IOException {
    bootSystemdAndInstallBaton();
    runReadme(SOCKET_ADDRESS);
    runReadme(List.of(ENABLE_SOCKET, ENABLE_SERVICE));
    UnitState first = show();
    startLoad(LoadClient.Mode.KEEP_ALIVE, 4);
    startLoad(LoadClient.Mode.CLOSE, 2);
    awaitMoreRequestsServed();
    List<RawHttp> held = sendHeldRequests(8);
    Podman.Result stopped;
    try {
      long issued = System.currentTimeMillis();
      CompletableFuture<Podman.Result> stop =
          CompletableFuture.supplyAsync(() -> systemd.trySystemctl(WAIT, "stop", "baton"));
      // systemd says deactivating as it sends SIGTERM; Baton's STOPPING=1 and STATUS= follow.
      awaitState(
          s ->
              s.activeState().equals("deactivating")
                  && s.statusText().equals("generation 1 draining to stop"),
          "deactivating while generation 1 drains");
      upstream.releaseHeld();
      for (RawHttp c : held) {
        assertThat(c.read().status()).as("a request in flight when stop was issued").isEqualTo(200);
      }
      stopped = stop.join();
      assertThat(stopped.exitCode()).as("`%s`: %s", STOP, stopped.stderr()).isZero();
      System.out.println(
          "stop with socket: `"
              + STOP
              + "` took "
              + (System.currentTimeMillis() - issued)
              + " ms, said: "
              + stopped.stderr().strip());
    } finally {
      held.forEach(SystemdPid1Test::closeQuietly);
    }
    // What systemd does: the socket stays listening, and the connections that queued meanwhile
    // start the service again.
    assertThat(systemd.activeAndSubState(SOCKET))
        .as("%s after `%s`", SOCKET, STOP)
        .startsWith("active/");
    UnitState next =
        awaitState(
            s -> s.activeState().equals("active") && s.mainPid() != first.mainPid(),
            "started again by the queued connections");
    assertThat(next.statusText()).isEqualTo(serving(1));
    awaitMoreRequestsServed();
    stopLoadsAndAssertNothingLost();
    runReadme(List.of(STOP_ALL));
    assertConnectionRefused();
    System.out.println("stop with socket: states " + statesSince(0));
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * {@code systemctl reload baton} from {@code generation}: MainPID moves to the next generation,
   * which serves; the old process drains and exits 0; {@code systemctl show} goes through Baton's
   * states. Returns the milliseconds from the reload to the new MainPID.
   */
  private long reloadFrom(long generation) {
    UnitState before = show();
    assertThat(before.activeState() + "/" + before.subState())
        .as("before reload %d", generation)
        .isEqualTo("active/running");
    assertThat(before.statusText()).isEqualTo(serving(generation));
    long issued = System.currentTimeMillis();
    runReadme(List.of(RELOAD));
    // No wait: the reload job ends when the new generation serves (ExecReload= is `baton upgrade
    // --wait`).
    UnitState after = show();
    long took = System.currentTimeMillis() - issued;
    assertThat(after.activeState() + "/" + after.subState())
        .as("right after `%s` returned", RELOAD)
        .isEqualTo("active/running");
    assertThat(after.mainPid())
        .as("MainPID right after `%s` returned", RELOAD)
        .isNotEqualTo(before.mainPid());
    assertThat(after.statusText()).isEqualTo(serving(generation + 1));
    assertThat(systemd.commandLine(after.mainPid()))
        .as("the new MainPID %d", after.mainPid())
        .contains("-jar /opt/baton/baton.jar run --config /etc/baton/baton.yaml");
    assertThat(
            systemd.shell("sed -n 's/^PPid:\\s*//p' /proc/" + after.mainPid() + "/status").strip())
        .as("parent of the new MainPID %d: systemd, not the old generation", after.mainPid())
        .isEqualTo("1");
    Awaitility.await(
            "generation " + generation + " (pid " + before.mainPid() + ") drains and exits")
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> !systemd.processExists(before.mainPid()));
    String journal = systemd.journal(SERVICE);
    assertThat(journal)
        .as("generation %d's log", generation)
        .contains("pid=" + before.mainPid() + " - generation " + generation + " exits with 0");
    assertThat(journal)
        .as("systemd's log: the new main process is its own child")
        .doesNotContain("not our child");

    List<UnitState> seen = statesSince(issued);
    long old = before.mainPid();
    long next = generation + 1;
    List<UnitState> expected =
        List.of(
            before,
            new UnitState("reloading", "reload", old, serving(generation)), // ExecReload= starts
            new UnitState(
                "reloading",
                "reload",
                old,
                "generation " + generation + " handing over to generation " + next),
            new UnitState(
                "reloading",
                "reload",
                old,
                "generation " + next + " taking over from generation " + generation),
            new UnitState(
                "reloading",
                "reload",
                old,
                "generation " + generation + " draining, generation " + next + " serves"),
            // The old main process may finish its drain and exit before the new one says MAINPID=:
            // systemd then has no main process until it does (the reload job keeps the unit alive).
            new UnitState(
                "reloading",
                "reload",
                0,
                "generation " + generation + " draining, generation " + next + " serves"),
            new UnitState(
                "reloading",
                "reload",
                after.mainPid(),
                serving(next)), // READY=1 before ExecReload= returns
            after);
    assertThat(expected)
        .as("states seen by systemctl show during reload %d, in order: %s", generation, seen)
        .containsSubsequence(seen);
    assertThat(seen)
        .as("states seen during reload %d", generation)
        .contains(expected.get(2))
        .endsWith(after);
    List<TimedState> timed = systemd.states();
    long reloading =
        timed.stream()
            .filter(t -> t.epochMillis() >= issued && t.state().activeState().equals("reloading"))
            .mapToLong(TimedState::epochMillis)
            .min()
            .orElse(issued);
    long served =
        timed.stream()
            .filter(t -> t.state().equals(after))
            .mapToLong(TimedState::epochMillis)
            .min()
            .orElse(issued);
    System.out.printf(
        "reload %d: `%s` returned after %d ms; systemd showed it reloading for %d ms%n",
        generation, RELOAD, took, served - reloading);
    return took;
  }

  private void runReadme(List<String> commands) {
    for (String command : commands) {
      String asRun = command.replace("127.0.0.1:8080", "127.0.0.1:" + webPort);
      Podman.Result r = systemd.tryShell("cd " + CHECKOUT + " && " + asRun, WAIT);
      assertThat(r.exitCode())
          .as("`%s` in %s: stderr %s", asRun, systemd.name(), r.stderr().strip())
          .isZero();
    }
  }

  /** Distinct consecutive states since {@code epochMillis}, starting with the one current then. */
  private List<UnitState> statesSince(long epochMillis) {
    List<TimedState> all = systemd.states();
    List<UnitState> seen = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      boolean currentAtStart = i + 1 < all.size() && all.get(i + 1).epochMillis() > epochMillis;
      if (all.get(i).epochMillis() >= epochMillis || currentAtStart || i == all.size() - 1) {
        UnitState s = all.get(i).state();
        if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(s)) {
          seen.add(s);
        }
      }
    }
    return seen;
  }

  /** What the README's {@code systemctl show} command says now. */
  private UnitState show() {
    return UnitState.parse(systemd.shell(SHOW));
  }

  private UnitState awaitState(Predicate<UnitState> condition, String what) {
    return Awaitility.await(SERVICE + ": " + what)
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(200))
        .until(this::show, condition);
  }

  private LoadClient startLoad(LoadClient.Mode mode, int workers) {
    LoadClient load =
        LoadClient.builder("127.0.0.1", webPort)
            .workers(workers)
            .mode(mode)
            .maxDuration(Duration.ofMinutes(4))
            .build();
    loads.add(load);
    return load.start();
  }

  /** Waits until every running load got more answers: the next step happens under load. */
  private void awaitMoreRequestsServed() {
    for (LoadClient load : loads) {
      if (!load.isFinished()) {
        long before = load.result().ok();
        Awaitility.await("more requests served by " + load.idPrefix())
            .atMost(WAIT)
            .until(() -> load.result().ok() >= before + 200);
      }
    }
  }

  /**
   * Ends every load, and asserts: no request failed, no connection failed, and every request id
   * sent (the loads', the held and queued requests') arrived at the upstream exactly once.
   */
  private List<LoadResult> stopLoadsAndAssertNothingLost() {
    loads.forEach(LoadClient::stop);
    List<LoadResult> results = new ArrayList<>();
    Set<String> sent = new HashSet<>(heldIds);
    for (LoadClient load : loads) {
      LoadResult r = load.awaitResult(WAIT);
      results.add(r);
      assertThat(r.failed()).as("failed requests (connection errors included): %s", r).isZero();
      assertThat(r.ok()).as("answered requests: %s", r).isEqualTo(r.attempted());
      sent.addAll(load.idsSent());
    }
    Map<String, Integer> arrived = upstream.idCounts();
    // Plain lookups: AssertJ's containsAll over a few hundred thousand ids took minutes.
    List<String> notOnce =
        sent.stream()
            .filter(id -> arrived.getOrDefault(id, 0) != 1)
            .map(id -> id + " arrived " + arrived.getOrDefault(id, 0) + " times")
            .limit(20)
            .toList();
    assertThat(notOnce)
        .as(
            "request ids (of %d sent) that did not arrive at the upstream exactly once, first 20",
            sent.size())
        .isEmpty();
    return results;
  }

  /**
   * {@code n} requests the upstream holds until {@link TestUpstream#releaseHeld()}, each on its own
   * connection.
   */
  private List<RawHttp> sendHeldRequests(int n) throws IOException {
    List<RawHttp> held = new ArrayList<>();
    int before = upstream.heldRequests();
    for (int i = 0; i < n; i++) {
      String id = "held-" + heldIds.size();
      RawHttp c = new RawHttp(web);
      held.add(c);
      c.send("GET /hold/" + id + " HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + id + "\r\n\r\n");
      heldIds.add(id);
    }
    Awaitility.await(n + " held requests at the upstream")
        .atMost(WAIT)
        .until(() -> upstream.heldRequests() == before + n);
    return held;
  }

  private RawHttp.Response get(String path) {
    try (RawHttp http = new RawHttp(web)) {
      http.send("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
      return http.read();
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + path + " on " + web, e);
    }
  }

  private void assertConnectionRefused() {
    try (Socket s = new Socket()) {
      s.connect(web, 5000);
      throw new AssertionError(
          "connect to " + web + " succeeded (expected it refused: nothing listens after the stop)");
    } catch (ConnectException expected) {
      // refused: nothing listens
    } catch (IOException e) {
      throw new AssertionError(
          "connect to " + web + ": " + e + " (expected connection refused)", e);
    }
  }

  private static String serving(long generation) {
    return "generation " + generation + " serving on 1 listener";
  }

  private static void closeQuietly(RawHttp c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing a test client: nothing to report
    }
  }

  /** A port nobody listens on now (a test may rarely race another for it). */
  private static int freePort() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return probe.getLocalPort();
    }
  }
}
