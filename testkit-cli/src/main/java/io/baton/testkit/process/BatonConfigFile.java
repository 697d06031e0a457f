package io.baton.testkit.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes a Baton YAML config for the demo, the bench and the process-level tests. */
public final class BatonConfigFile {

  private final Path dir;
  private Path runDir;
  private String admin = "127.0.0.1:0";
  private boolean servingHeader;
  private String drainTimeout = "30s";
  private String http2GoawayDelay;
  private Boolean migrate;
  private String stepTimeout;
  private String readyTimeout;
  private Integer maxDraining;
  private final List<String> listeners = new ArrayList<>();
  private final List<String> clusters = new ArrayList<>();

  private BatonConfigFile(Path dir) {
    this.dir = dir;
    this.runDir = dir.resolve("run");
  }

  /** A config file to be written in {@code dir}; the run directory defaults to {@code dir/run}. */
  public static BatonConfigFile builder(Path dir) {
    return new BatonConfigFile(dir);
  }

  public BatonConfigFile runDir(Path value) {
    runDir = value;
    return this;
  }

  public BatonConfigFile admin(String hostPort) {
    admin = hostPort;
    return this;
  }

  public BatonConfigFile servingHeader(boolean value) {
    servingHeader = value;
    return this;
  }

  public BatonConfigFile drainTimeout(String value) {
    drainTimeout = value;
    return this;
  }

  /** {@code drain.http2GoawayDelay}; unset: the default (1s). */
  public BatonConfigFile http2GoawayDelay(String value) {
    http2GoawayDelay = value;
    return this;
  }

  /** {@code drain.migrate}; unset: the default (on). */
  public BatonConfigFile migrate(boolean value) {
    migrate = value;
    return this;
  }

  public BatonConfigFile stepTimeout(String value) {
    stepTimeout = value;
    return this;
  }

  public BatonConfigFile readyTimeout(String value) {
    readyTimeout = value;
    return this;
  }

  /** {@code handoff.maxDraining}; unset: the default. */
  public BatonConfigFile maxDraining(int value) {
    maxDraining = value;
    return this;
  }

  public BatonConfigFile httpListener(String name, String hostPort, String cluster) {
    return listener(name, hostPort, "http", cluster);
  }

  /** An HTTP listener with {@code maxConnections}. */
  public BatonConfigFile httpListener(
      String name, String hostPort, String cluster, int maxConnections) {
    listener(name, hostPort, "http", cluster);
    listeners.add("    maxConnections: " + maxConnections + "\n");
    return this;
  }

  public BatonConfigFile tcpListener(String name, String hostPort, String cluster) {
    return listener(name, hostPort, "tcp", cluster);
  }

  private BatonConfigFile listener(String name, String hostPort, String protocol, String cluster) {
    listeners.add(
        "  - name: "
            + name
            + "\n    address: \""
            + hostPort
            + "\"\n    protocol: "
            + protocol
            + "\n    cluster: "
            + cluster
            + "\n");
    return this;
  }

  /**
   * An HTTP listener terminating TLS with the PEM files {@code certificate} and {@code privateKey}.
   */
  public BatonConfigFile httpsListener(
      String name, String hostPort, String cluster, Path certificate, Path privateKey) {
    listener(name, hostPort, "http", cluster);
    listeners.add(
        "    tls:\n      certificate: \""
            + certificate
            + "\"\n      privateKey: \""
            + privateKey
            + "\"\n");
    return this;
  }

  /** A cluster whose members speak TLS, checked against {@code trustedCertificates} (PEM). */
  public BatonConfigFile tlsCluster(String name, Path trustedCertificates, String... endpoints) {
    cluster(name, null, endpoints);
    clusters.add("    tls:\n      trustedCertificates: \"" + trustedCertificates + "\"\n");
    return this;
  }

  /**
   * A cluster whose members speak {@code protocol} (http1 or h2) over TLS, checked against {@code
   * trustedCertificates}.
   */
  public BatonConfigFile tlsClusterOfProtocol(
      String name, String protocol, Path trustedCertificates, String... endpoints) {
    clusterOfProtocol(name, protocol, endpoints);
    clusters.add("    tls:\n      trustedCertificates: \"" + trustedCertificates + "\"\n");
    return this;
  }

  public BatonConfigFile cluster(String name, String... endpoints) {
    return cluster(name, null, endpoints);
  }

  /**
   * A cluster whose members speak {@code protocol} ({@code clusters[].protocol}: http1, h2c; h2
   * needs tls: {@link #tlsClusterOfProtocol}).
   */
  public BatonConfigFile clusterOfProtocol(String name, String protocol, String... endpoints) {
    cluster(name, null, endpoints);
    clusters.set(
        clusters.size() - 1,
        clusters.get(clusters.size() - 1) + "    protocol: " + protocol + "\n");
    return this;
  }

  /**
   * {@code clusters[].idleTimeout} of the cluster added last: how long a pooled upstream connection
   * may stay unused.
   */
  public BatonConfigFile idleTimeout(String value) {
    if (clusters.isEmpty()) {
      throw new IllegalStateException("idleTimeout " + value + ": add a cluster first");
    }
    clusters.set(
        clusters.size() - 1,
        clusters.get(clusters.size() - 1) + "    idleTimeout: " + value + "\n");
    return this;
  }

  /** A cluster whose members speak h2c ({@code protocol: h2c}). */
  public BatonConfigFile h2cCluster(String name, String... endpoints) {
    return clusterOfProtocol(name, "h2c", endpoints);
  }

  /** A cluster whose upstream must start each response within {@code requestTimeout}. */
  public BatonConfigFile clusterWithRequestTimeout(
      String name, String requestTimeout, String... endpoints) {
    return cluster(name, requestTimeout, endpoints);
  }

  private BatonConfigFile cluster(String name, String requestTimeout, String[] endpoints) {
    StringBuilder eps = new StringBuilder();
    for (String e : endpoints) {
      eps.append(eps.length() == 0 ? "" : ", ").append('"').append(e).append('"');
    }
    clusters.add(
        "  - name: "
            + name
            + "\n    endpoints: ["
            + eps
            + "]\n"
            + (requestTimeout == null ? "" : "    requestTimeout: " + requestTimeout + "\n"));
    return this;
  }

  /**
   * A cluster whose members come from etcd {@code endpoint} under {@code prefix}.
   *
   * @param dumpPath where the members are dumped; null: no dump
   */
  public BatonConfigFile discoveredCluster(
      String name,
      String endpoint,
      String prefix,
      Path dumpPath,
      boolean strongDependency,
      String timeout) {
    clusters.add(
        "  - name: "
            + name
            + "\n    discovery:\n      etcd:\n        endpoints: [\""
            + endpoint
            + "\"]\n"
            + "        prefix: \""
            + prefix
            + "\"\n        timeout: "
            + timeout
            + "\n"
            + (dumpPath == null ? "" : "      dumpPath: \"" + dumpPath + "\"\n")
            + "      strongDependency: "
            + strongDependency
            + "\n");
    return this;
  }

  /** The YAML text. */
  public String yaml() {
    StringBuilder y = new StringBuilder();
    y.append("runDir: ").append(runDir).append('\n');
    y.append("admin:\n  address: \"")
        .append(admin)
        .append("\"\n  servingHeader: ")
        .append(servingHeader)
        .append('\n');
    y.append("drain:\n  timeout: ").append(drainTimeout).append('\n');
    if (migrate != null) {
      y.append("  migrate: ").append(migrate).append('\n');
    }
    if (http2GoawayDelay != null) {
      y.append("  http2GoawayDelay: ").append(http2GoawayDelay).append('\n');
    }
    if (stepTimeout != null || readyTimeout != null || maxDraining != null) {
      y.append("handoff:\n");
      if (maxDraining != null) {
        y.append("  maxDraining: ").append(maxDraining).append('\n');
      }
      if (stepTimeout != null) {
        y.append("  stepTimeout: ").append(stepTimeout).append('\n');
      }
      if (readyTimeout != null) {
        y.append("  readyTimeout: ").append(readyTimeout).append('\n');
      }
    }
    y.append("listeners:\n");
    listeners.forEach(y::append);
    y.append("clusters:\n");
    clusters.forEach(y::append);
    return y.toString();
  }

  /** Writes {@code dir/baton.yaml} and returns its path. */
  public Path write() {
    try {
      Files.createDirectories(dir);
      return Files.writeString(dir.resolve("baton.yaml"), yaml());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the config in " + dir, e);
    }
  }
}
