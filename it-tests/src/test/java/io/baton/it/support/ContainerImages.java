package io.baton.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The container images the tests run, built on this machine by {@code
 * deploy/docker/build-local.sh} (no registry is reachable). {@link #ensureBuilt()} builds them at
 * most once per test JVM, and only when they are missing or older than what goes into them.
 */
public final class ContainerImages {

  /** The Baton image: jlinked JDK 25, uid 10001, the jar and its AOT cache. */
  public static final String BATON = "localhost/baton:dev";
  /** The OpenKruise hot-upgrade empty image (deploy/docker/empty-entrypoint.sh). */
  public static final String EMPTY = "localhost/baton:dev-empty";

  private static final Path DEPLOY = Path.of(System.getProperty("baton.deploy", "../deploy")).toAbsolutePath().normalize();
  private static final Path BUILD_SCRIPT = DEPLOY.resolve("docker/build-local.sh");
  /** A first build makes the base image too (debootstrap, about a minute) and trains the AOT cache. */
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);

  private static boolean checked;

  private ContainerImages() {}

  /**
   * Makes sure {@link #BATON} and {@link #EMPTY} exist and are not older than the jar, {@code
   * bin/baton} and {@code deploy/docker/*}; otherwise runs build-local.sh (its output goes to
   * {@code target/build-local.log}). Fails, never skips, when podman is missing or the build fails.
   */
  public static synchronized void ensureBuilt() {
    if (checked) {
      return;
    }
    Podman.executable();
    if (!Files.isRegularFile(BatonFixture.JAR)) {
      throw new IllegalStateException("baton.jar: " + BatonFixture.JAR + " (expected the packaged jar: run mvn verify, not mvn test)");
    }
    long inputs = newestInput();
    boolean fresh = createdEpochSeconds(BATON) >= inputs && createdEpochSeconds(EMPTY) >= inputs;
    if (!fresh) {
      build();
    }
    checked = true;
  }

  private static void build() {
    Path log = Path.of("target", "build-local.log").toAbsolutePath();
    try {
      Files.createDirectories(log.getParent());
      System.out.println("ContainerImages: building " + BATON + " and " + EMPTY + " with " + BUILD_SCRIPT + " (log: " + log + ")");
      Process p = new ProcessBuilder("bash", BUILD_SCRIPT.toString(), "--tag", BATON)
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .start();
      if (!p.waitFor(BUILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError(BUILD_SCRIPT + ": did not finish within " + BUILD_TIMEOUT + "; its log: " + tail(log));
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(BUILD_SCRIPT + ": exit code " + p.exitValue() + " (expected 0); its log: " + tail(log));
      }
      System.out.println(tail(log));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + BUILD_SCRIPT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while building the images with " + BUILD_SCRIPT, e);
    }
  }

  /** The image's creation time, or -1 if there is no such local image. */
  private static long createdEpochSeconds(String image) {
    if (!Podman.imageExists(image)) {
      return -1;
    }
    Podman.Result r = new Podman("ContainerImages").podman(Podman.DEFAULT_TIMEOUT,
        List.of("image", "inspect", "--format", "{{.Created.Unix}}", image));
    return Long.parseLong(r.stdout().trim());
  }

  /** The newest modification time (epoch seconds) of what build-local.sh puts into the images. */
  private static long newestInput() {
    try (Stream<Path> docker = Files.list(DEPLOY.resolve("docker"))) {
      return Stream.concat(Stream.of(BatonFixture.JAR, DEPLOY.resolveSibling("bin").resolve("baton")), docker)
          .mapToLong(ContainerImages::modifiedEpochSeconds)
          .max()
          .orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + DEPLOY.resolve("docker"), e);
    }
  }

  private static long modifiedEpochSeconds(Path file) {
    try {
      return Files.getLastModifiedTime(file).toMillis() / 1000;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the modification time of " + file + " (an input of the image)", e);
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }
}
