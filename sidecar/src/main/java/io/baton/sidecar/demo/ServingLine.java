package io.baton.sidecar.demo;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parsed {@code baton serving ...} line a generation prints when it serves, e.g. {@code baton
 * serving generation=2 pid=123 instance=k3xq7m2a9bcdefgh admin=127.0.0.1:9901
 * listeners=web=127.0.0.1:8080,raw=127.0.0.1:8081}.
 *
 * @param instanceId empty from a binary older than the field
 */
public record ServingLine(
    long generation, long pid, String instanceId, InetSocketAddress admin, Map<String, InetSocketAddress> listeners) {

  public static final String PREFIX = "baton serving ";

  public static ServingLine parse(String line) {
    if (!line.startsWith(PREFIX)) {
      throw new IllegalArgumentException("serving line: \"" + line + "\" (expected it to start with \"" + PREFIX + "\")");
    }
    Map<String, String> fields = new LinkedHashMap<>();
    for (String part : line.substring(PREFIX.length()).trim().split(" ")) {
      int eq = part.indexOf('=');
      fields.put(part.substring(0, eq), part.substring(eq + 1));
    }
    Map<String, InetSocketAddress> listeners = new LinkedHashMap<>();
    String list = fields.getOrDefault("listeners", "");
    if (!list.isEmpty()) {
      for (String l : list.split(",")) {
        int eq = l.indexOf('=');
        listeners.put(l.substring(0, eq), address(l.substring(eq + 1)));
      }
    }
    return new ServingLine(Long.parseLong(fields.get("generation")), Long.parseLong(fields.get("pid")),
        fields.getOrDefault("instance", ""), address(fields.get("admin")), Map.copyOf(listeners));
  }

  /** The bound address of the listener {@code name}. */
  public InetSocketAddress listener(String name) {
    InetSocketAddress a = listeners.get(name);
    if (a == null) {
      throw new IllegalArgumentException("listener: " + name + " (expected one of " + listeners.keySet() + ")");
    }
    return a;
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    }
    return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
