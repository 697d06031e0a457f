import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Holds N idle keep-alive connections to Baton for bench/migration-bench.sh (a single-file Java
 * program: `java bench/IdleClients.java HOST PORT N`, JDK only). Prints "open N" once they are
 * connected, waits for "go" on stdin, then sends one request on each connection and prints
 * "answered A by_generation G=n,... closed C failed F".
 */
public final class IdleClients {

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    int count = Integer.parseInt(args[2]);
    List<Socket> sockets = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress(host, port), 5000);
      s.setSoTimeout(30_000);
      sockets.add(s);
    }
    System.out.println("open " + count);
    System.out.flush();
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    if (!"go".equals(stdin.readLine())) {
      return;
    }
    int answered = 0;
    int closed = 0;
    int failed = 0;
    java.util.TreeMap<String, Integer> byGeneration = new java.util.TreeMap<>();
    for (int i = 0; i < count; i++) {
      Socket s = sockets.get(i);
      try {
        s.getOutputStream().write(("GET /load/idle-" + i + " HTTP/1.1\r\nHost: bench\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        Head head = readResponse(s);
        if (head.status == 200) {
          answered++;
          byGeneration.merge(head.generation, 1, Integer::sum);
          if (head.closes) {
            closed++;
          }
        } else {
          failed++;
        }
      } catch (IOException e) {
        failed++;
      }
    }
    StringBuilder gens = new StringBuilder();
    byGeneration.forEach((g, n) -> gens.append(gens.length() == 0 ? "" : ",").append(g).append('=').append(n));
    System.out.println("answered " + answered + " by_generation " + gens + " closed " + closed + " failed " + failed);
    for (Socket s : sockets) {
      s.close();
    }
  }

  private record Head(int status, String generation, boolean closes) {}

  /** Status line and headers, then a Content-Length body (TestUpstream's /load answers). */
  private static Head readResponse(Socket s) throws IOException {
    var in = s.getInputStream();
    StringBuilder line = new StringBuilder();
    List<String> lines = new ArrayList<>();
    while (true) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("EOF");
      }
      if (c == '\n') {
        String l = line.toString().strip();
        line.setLength(0);
        if (l.isEmpty()) {
          break;
        }
        lines.add(l);
      } else {
        line.append((char) c);
      }
    }
    int status = Integer.parseInt(lines.get(0).split(" ")[1]);
    String generation = "?";
    boolean closes = false;
    int length = 0;
    for (String h : lines.subList(1, lines.size())) {
      String lower = h.toLowerCase(Locale.ROOT);
      if (lower.startsWith("x-baton-generation:")) {
        generation = h.substring(h.indexOf(':') + 1).strip();
      } else if (lower.startsWith("connection:") && lower.contains("close")) {
        closes = true;
      } else if (lower.startsWith("content-length:")) {
        length = Integer.parseInt(h.substring(h.indexOf(':') + 1).strip());
      }
    }
    in.readNBytes(length);
    return new Head(status, generation, closes);
  }
}
