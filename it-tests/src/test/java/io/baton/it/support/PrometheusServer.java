package io.baton.it.support;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus (the Debian package) scraping one target every second, in a directory the
 * caller owns (config, TSDB, log), on 127.0.0.1. {@link #close()} stops the process it started.
 */
public final class PrometheusServer implements AutoCloseable {

  private static final Duration START = Duration.ofSeconds(60);

  private final Process process;
  private final Path log;
  private final URI base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ObjectMapper json = new ObjectMapper();

  private PrometheusServer(Process process, Path log, URI base) {
    this.process = process;
    this.log = log;
    this.base = base;
  }

  /**
   * Starts Prometheus in {@code dir} scraping {@code target}'s /metrics, and waits until it is
   * ready.
   */
  public static PrometheusServer start(Path dir, InetSocketAddress target) throws IOException {
    Path binary = ExternalTool.require("prometheus");
    Files.createDirectories(dir);
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
        scrape_configs:
          - job_name: baton
            static_configs:
              - targets: ["%s:%d"]
        """
            .formatted(target.getHostString(), target.getPort()));
    // Prometheus has no "port 0" with a way to read the port back: take a free one from the kernel.
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Path log = dir.resolve("prometheus.log");
    Process process =
        new ProcessBuilder(
                binary.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    PrometheusServer server =
        new PrometheusServer(process, log, URI.create("http://127.0.0.1:" + port));
    try {
      await("Prometheus ready on 127.0.0.1:" + port)
          .atMost(START)
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new AssertionError(
                      "prometheus exited with "
                          + process.exitValue()
                          + ":\n"
                          + Files.readString(log));
                }
                return server.status("/-/ready") == 200;
              });
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  /**
   * The value of an instant query that must return at most one series; NaN when it returns none
   * (not scraped yet).
   */
  public double value(String promql) throws IOException, InterruptedException {
    JsonNode result = query(promql);
    if (result.isEmpty()) {
      return Double.NaN;
    }
    if (result.size() > 1) {
      throw new AssertionError(
          promql + " returned " + result.size() + " series (expected one): " + result);
    }
    return Double.parseDouble(result.get(0).path("value").get(1).asText());
  }

  /** The {@code data.result} of an instant query through the HTTP API. */
  public JsonNode query(String promql) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    base.resolve(
                        "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = json.readTree(r.body());
    if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
      throw new AssertionError(promql + ": HTTP " + r.statusCode() + " " + r.body());
    }
    return body.path("data").path("result");
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private int status(String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
