package io.baton.handoff.peer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Baton process as it describes itself to its peers: its pid and pid namespace (as it sees them)
 * and an instance id that no other process, in any namespace, ever has.
 *
 * @param pid the process's pid in its own pid namespace (1 for a container's first process)
 * @param pidNamespace the inode of its pid namespace ({@code /proc/self/ns/pid}); 0 when unknown
 *     (an older binary, or {@code /proc} unreadable)
 * @param instanceId {@link #newInstanceId()}: names this process's files in the run directory and
 *     its lines in the logs; empty for an older binary
 */
public record ProcessIdentity(long pid, long pidNamespace, String instanceId) {

  private static final Pattern NAMESPACE_LINK = Pattern.compile("pid:\\[(\\d+)]");
  private static final Pattern INSTANCE_ID = Pattern.compile("[a-z2-7]{16}");
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final long OWN_PID_NAMESPACE = readPidNamespace(Path.of("/proc/self/ns/pid"));

  /**
   * This process, with a fresh instance id. Called once per handoff participant: tests run two
   * generations in one JVM, and each needs its own id.
   */
  public static ProcessIdentity ofThisProcess() {
    return new ProcessIdentity(ProcessHandle.current().pid(), OWN_PID_NAMESPACE, newInstanceId());
  }

  /** 80 random bits in 16 lowercase base32 letters: no digits-only name that looks like a pid. */
  public static String newInstanceId() {
    StringBuilder id = new StringBuilder(16);
    for (int i = 0; i < 16; i++) {
      id.append(BASE32.charAt(RANDOM.nextInt(32)));
    }
    return id.toString();
  }

  /**
   * Whether {@code text} has the shape {@link #newInstanceId()} gives (so that it may name files).
   */
  public static boolean isInstanceId(String text) {
    return INSTANCE_ID.matcher(text).matches();
  }

  /**
   * The inode number of the pid namespace {@code link} (a {@code /proc/PID/ns/pid}) names; 0 if
   * unreadable.
   */
  static long readPidNamespace(Path link) {
    try {
      Matcher m = NAMESPACE_LINK.matcher(Files.readSymbolicLink(link).toString());
      return m.matches() ? Long.parseLong(m.group(1)) : 0;
    } catch (IOException
        | UnsupportedOperationException
        | SecurityException
        | NumberFormatException e) {
      return 0;
    }
  }

  /**
   * For logs: {@code pid 1 instance k3x...}; where all pids are 1 the instance tells them apart.
   */
  @Override
  public String toString() {
    return "pid "
        + pid
        + (instanceId.isEmpty() ? "" : " instance " + instanceId.toLowerCase(Locale.ROOT));
  }
}
