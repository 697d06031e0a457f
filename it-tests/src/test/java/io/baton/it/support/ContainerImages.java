package io.baton.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The container images the tests run, built on this machine by {@code deploy/docker/build-local.sh}
 * (no registry is reachable). {@link #ensureBuilt()} builds them at most once per test JVM, and
 * only when they are missing or older than what goes into them.
 */
public final class ContainerImages {

  /** The Baton image: jlinked JDK 25, uid 10001, the jar and its AOT cache. */
  public static final String BATON = "localhost/baton:dev";

  /** The OpenKruise hot-upgrade empty image (deploy/docker/empty-entrypoint.sh). */
  public static final String EMPTY = "localhost/baton:dev-empty";

  /** {@link #BATON} plus the test kit, which the Baton image does not carry: for test upstreams. */
  public static final String TESTKIT = "localhost/baton:dev-testkit";

  private static final Path DEPLOY =
      Path.of(System.getProperty("baton.deploy", "../deploy")).toAbsolutePath().normalize();
  private static final Path BUILD_SCRIPT = DEPLOY.resolve("docker/build-local.sh");

  /**
   * A first build makes the base image too (debootstrap, about a minute) and trains the AOT cache.
   */
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);

  private static boolean checked;

  private ContainerImages() {}

  /**
   * Makes sure {@link #BATON}, {@link #EMPTY} and {@link #TESTKIT} exist and are not older than the
   * jar, {@code bin/baton}, {@code bin/baton-startup-cache} and {@code deploy/docker/*} (or were
   * built here from inputs of the same contents: {@code target/container-images.stamp}); otherwise
   * runs build-local.sh (its output goes to {@code target/build-local.log}). Fails, never skips,
   * when podman is missing or the build fails.
   */
  public static synchronized void ensureBuilt() {
    if (checked) {
      return;
    }
    Podman.executable();
    if (!Files.isRegularFile(BatonFixture.JAR)) {
      throw new IllegalStateException(
          "baton.jar: "
              + BatonFixture.JAR
              + " (expected the packaged jar: run mvn verify, not mvn test)");
    }
    String digest = inputsDigest();
    long inputs = newestInput();
    String stamp = stampOfImages(digest);
    boolean fresh =
        !stamp.isEmpty()
            && (createdEpochSeconds(BATON) >= inputs
                    && createdEpochSeconds(EMPTY) >= inputs
                    && createdEpochSeconds(TESTKIT) >= inputs
                // Every `mvn package` rewrites the jar (new bytes, new mtime) even when no class
                // changed; the stamp of the last check here says whether its contents did.
                || stamp.equals(readStamp()));
    if (!fresh) {
      build();
      stamp = stampOfImages(digest);
    }
    writeStamp(stamp);
    checked = true;
  }

  private static final Path STAMP = Path.of("target", "container-images.stamp").toAbsolutePath();

  /**
   * The images' ids and the digest of the inputs they were built from; "" if an image is missing or
   * was built from another checkout (several share podman's images on one machine).
   */
  private static String stampOfImages(String digest) {
    if (!Podman.imageExists(BATON) || !Podman.imageExists(EMPTY) || !Podman.imageExists(TESTKIT)) {
      return "";
    }
    Podman.Result r =
        new Podman("ContainerImages")
            .podman(
                Podman.DEFAULT_TIMEOUT,
                List.of(
                    "image",
                    "inspect",
                    "--format",
                    "{{.Id}} {{index .Config.Labels \"io.baton.checkout\"}}",
                    BATON,
                    EMPTY,
                    TESTKIT));
    String checkout = DEPLOY.getParent().toString();
    List<String> lines = r.stdout().strip().lines().toList();
    if (!lines.stream().allMatch(l -> l.endsWith(" " + checkout))) {
      System.out.println(
          "ContainerImages: "
              + BATON
              + ", "
              + EMPTY
              + " or "
              + TESTKIT
              + " was not built from "
              + checkout
              + ": "
              + lines);
      return "";
    }
    return String.join(" ", lines) + " inputs " + digest;
  }

  private static String readStamp() {
    try {
      return Files.isRegularFile(STAMP) ? Files.readString(STAMP).strip() : "none";
    } catch (IOException e) {
      return "unreadable";
    }
  }

  private static void writeStamp(String stamp) {
    try {
      Files.writeString(STAMP, stamp + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + STAMP, e);
    }
  }

  /**
   * SHA-256 over what goes into the images: the jars' entries (baton.jar's and the test kit's;
   * names and contents, not their timestamps), bin/baton, bin/baton-startup-cache and
   * deploy/docker/*.
   */
  private static String inputsDigest() {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Path jarFile : List.of(BatonFixture.JAR, BatonFixture.TESTKIT_JAR)) {
        try (ZipFile jar = new ZipFile(jarFile.toFile())) {
          List<? extends ZipEntry> entries =
              jar.stream().sorted(Comparator.comparing(ZipEntry::getName)).toList();
          for (ZipEntry entry : entries) {
            sha.update(entry.getName().getBytes(StandardCharsets.UTF_8));
            try (InputStream in = jar.getInputStream(entry)) {
              sha.update(in.readAllBytes());
            }
          }
        }
      }
      List<Path> files;
      try (Stream<Path> docker = Files.list(DEPLOY.resolve("docker"))) {
        files =
            Stream.concat(
                    Stream.of(
                        DEPLOY.resolveSibling("bin").resolve("baton"),
                        DEPLOY.resolveSibling("bin").resolve("baton-startup-cache")),
                    docker)
                .sorted()
                .toList();
      }
      for (Path f : files) {
        sha.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
        sha.update(Files.readAllBytes(f));
      }
      return HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the inputs of the images ("
              + BatonFixture.JAR
              + ", "
              + BatonFixture.TESTKIT_JAR
              + ", "
              + DEPLOY
              + ")",
          e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void build() {
    Path log = Path.of("target", "build-local.log").toAbsolutePath();
    try {
      Files.createDirectories(log.getParent());
      System.out.println(
          "ContainerImages: building "
              + BATON
              + ", "
              + EMPTY
              + " and "
              + TESTKIT
              + " with "
              + BUILD_SCRIPT
              + " (log: "
              + log
              + ")");
      Process p =
          new ProcessBuilder("bash", BUILD_SCRIPT.toString(), "--tag", BATON)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .start();
      if (!p.waitFor(BUILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError(
            BUILD_SCRIPT + ": did not finish within " + BUILD_TIMEOUT + "; its log: " + tail(log));
      }
      if (p.exitValue() != 0) {
        throw new AssertionError(
            BUILD_SCRIPT + ": exit code " + p.exitValue() + " (expected 0); its log: " + tail(log));
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
    Podman.Result r =
        new Podman("ContainerImages")
            .podman(
                Podman.DEFAULT_TIMEOUT,
                List.of("image", "inspect", "--format", "{{.Created.Unix}}", image));
    return Long.parseLong(r.stdout().trim());
  }

  /** The newest modification time (epoch seconds) of what build-local.sh puts into the images. */
  private static long newestInput() {
    try (Stream<Path> docker = Files.list(DEPLOY.resolve("docker"))) {
      return Stream.concat(
              Stream.of(
                  BatonFixture.JAR,
                  BatonFixture.TESTKIT_JAR,
                  DEPLOY.resolveSibling("bin").resolve("baton"),
                  DEPLOY.resolveSibling("bin").resolve("baton-startup-cache")),
              docker)
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
      throw new UncheckedIOException(
          "cannot read the modification time of " + file + " (an input of the image)", e);
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
