package io.baton.sidecar.server;

import java.net.InetSocketAddress;
import java.util.stream.Collectors;

/**
 * The one line a generation prints on stdout when it serves. Tools and tests parse it:
 * {@code baton serving generation=2 pid=123 instance=k3xq7m2a9bcdefgh admin=127.0.0.1:9901
 * listeners=web=127.0.0.1:8080}. The instance id tells generations apart where the pid cannot (in a
 * pod each may be pid 1).
 */
final class ServingLine {

  private ServingLine() {}

  static String of(long generation, long pid, String instanceId, ListenerSet listeners) {
    String data = listeners.data().stream()
        .map(s -> s.name() + "=" + format(s.boundAddress()))
        .collect(Collectors.joining(","));
    return "baton serving generation=" + generation + " pid=" + pid + " instance=" + instanceId
        + " admin=" + format(listeners.admin().boundAddress()) + " listeners=" + data;
  }

  static String format(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

}
