package io.baton.sidecar.server;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one line a generation prints on stdout when it serves, written here and parsed here, so the
 * writer and every reader (the test kit, the demo, the it-tests) agree on its shape: {@code baton
 * serving generation=2 pid=123 instance=k3xq7m2a9bcdefgh admin=127.0.0.1:9901
 * listeners=web=127.0.0.1:8080,raw=127.0.0.1:8081}. The instance id tells generations apart where
 * the pid cannot (in a pod each may be pid 1).
 *
 * @param instanceId empty from a binary older than the field
 * @param listeners the data listeners' bound addresses by name, in the order of the line
 */
public record ServingLine(
    long generation,
    long pid,
    String instanceId,
    InetSocketAddress admin,
    Map<String, InetSocketAddress> listeners) {

  public static final String PREFIX = "baton serving ";

  public ServingLine {
    listeners = Collections.unmodifiableMap(new LinkedHashMap<>(listeners));
  }

  /** The line of a generation serving on {@code listeners}. */
  static String of(long generation, long pid, String instanceId, ListenerSet listeners) {
    Map<String, InetSocketAddress> data = new LinkedHashMap<>();
    listeners.data().forEach(s -> data.put(s.name(), s.boundAddress()));
    return new ServingLine(generation, pid, instanceId, listeners.admin().boundAddress(), data)
        .line();
  }

  /** The line as the generation prints it. */
  public String line() {
    StringBuilder data = new StringBuilder();
    listeners.forEach(
        (name, address) ->
            data.append(data.length() == 0 ? "" : ",")
                .append(name)
                .append('=')
                .append(format(address)));
    return PREFIX
        + "generation="
        + generation
        + " pid="
        + pid
        + " instance="
        + instanceId
        + " admin="
        + format(admin)
        + " listeners="
        + data;
  }

  public static ServingLine parse(String line) {
    if (!line.startsWith(PREFIX)) {
      throw new IllegalArgumentException(
          "serving line: \"" + line + "\" (expected it to start with \"" + PREFIX + "\")");
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
    return new ServingLine(
        Long.parseLong(fields.get("generation")),
        Long.parseLong(fields.get("pid")),
        fields.getOrDefault("instance", ""),
        address(fields.get("admin")),
        listeners);
  }

  /** The bound address of the listener {@code name}. */
  public InetSocketAddress listener(String name) {
    InetSocketAddress a = listeners.get(name);
    if (a == null) {
      throw new IllegalArgumentException(
          "listener: " + name + " (expected one of " + listeners.keySet() + ")");
    }
    return a;
  }

  /** {@code host:port}, an IPv6 host in brackets, as the line and the admin API write addresses. */
  static String format(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
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
