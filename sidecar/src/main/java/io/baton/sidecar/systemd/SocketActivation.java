package io.baton.sidecar.systemd;

import io.baton.handoff.InheritedListener;
import io.baton.sidecar.config.BatonConfig;
import io.baton.sidecar.config.ConfigLoader;
import io.baton.sidecar.config.HostPort;
import io.baton.sidecar.config.ListenerConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd socket activation ({@code sd_listen_fds(3)}): a {@code baton.socket} unit binds the
 * listeners and starts Baton with them as fds 3, 4, ... ({@code LISTEN_FDS} of them, named by
 * {@code LISTEN_FDNAMES}), for the process {@code LISTEN_PID} only. On a cold start each one
 * becomes the configured listener of the same name ({@code FileDescriptorName=}), or else of the
 * same bound address; it is then registered like a socket inherited from a predecessor, never
 * bound.
 *
 * <p>The variables describe fds of this process only, but Java cannot unsetenv(3): a process Baton
 * starts must be given an environment without {@link #VARIABLES_FOR_THIS_PROCESS_ONLY} (the JDK
 * closes fds 3 and up in children, so a child that kept the variables would take unrelated fds).
 */
public final class SocketActivation {

  private static final Logger log = LoggerFactory.getLogger(SocketActivation.class);

  /** Remove these from the environment of any process Baton starts. */
  public static final List<String> VARIABLES_FOR_THIS_PROCESS_ONLY =
      List.of("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES");

  /** SD_LISTEN_FDS_START: the first passed fd; 0, 1, 2 are stdin, stdout, stderr. */
  static final int FIRST_FD = 3;

  private final List<ActivatedFd> fds;

  private SocketActivation(List<ActivatedFd> fds) {
    this.fds = List.copyOf(fds);
  }

  /**
   * The sockets systemd passed to this process; none if it passed none, or passed them to another
   * pid.
   */
  public static SocketActivation fromEnvironment() {
    try {
      return new SocketActivation(parse(System.getenv(), ProcessHandle.current().pid()));
    } catch (IllegalArgumentException e) {
      // The fds cannot be told apart without these values: bind fresh, as without systemd.
      log.error("socket activation ignored: {}", e.getMessage());
      return new SocketActivation(List.of());
    }
  }

  /**
   * The fds {@code env} passes to the process {@code ownPid}, in order; none when {@code
   * LISTEN_PID} is unset or another process (the variables were inherited, not meant for us).
   *
   * @throws IllegalArgumentException naming the variable, its value and what was expected
   */
  public static List<ActivatedFd> parse(Map<String, String> env, long ownPid) {
    String pidText = env.get("LISTEN_PID");
    String countText = env.get("LISTEN_FDS");
    if (pidText == null || countText == null) {
      return List.of();
    }
    long pid = parseNumber("LISTEN_PID", pidText, "a process id");
    if (pid != ownPid) {
      log.info(
          "LISTEN_PID {} is not this process ({}): LISTEN_FDS {} belong to another process,"
              + " ignored",
          pid,
          ownPid,
          countText);
      return List.of();
    }
    long count = parseNumber("LISTEN_FDS", countText, "a number of fds");
    if (count > Integer.MAX_VALUE - FIRST_FD) {
      throw new IllegalArgumentException(
          "LISTEN_FDS: \"" + countText + "\" (expected a number of fds)");
    }
    List<String> names = names(env.get("LISTEN_FDNAMES"), (int) count);
    List<ActivatedFd> fds = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      fds.add(new ActivatedFd(FIRST_FD + i, names.get(i)));
    }
    return fds;
  }

  private static long parseNumber(String variable, String text, String expected) {
    try {
      long value = Long.parseLong(text.trim());
      if (value >= 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below with the variable's name.
    }
    throw new IllegalArgumentException(variable + ": \"" + text + "\" (expected " + expected + ")");
  }

  /**
   * One name per fd; nulls when systemd sent none or a list of another length (then names are
   * unreliable).
   */
  private static List<String> names(String text, int count) {
    List<String> names = new ArrayList<>();
    if (text != null && !text.isEmpty()) {
      String[] given = text.split(":", -1);
      if (given.length == count) {
        names.addAll(List.of(given));
        return names;
      }
      log.warn(
          "LISTEN_FDNAMES: \"{}\" (expected {} names separated by ':'): matching the fds by address"
              + " only",
          text,
          count);
    }
    for (int i = 0; i < count; i++) {
      names.add(null);
    }
    return names;
  }

  /**
   * The activated sockets that serve {@code config}'s listeners (data and admin), by listener name,
   * each made non-blocking, as listeners to register. An fd that matches no listener, or cannot be
   * used, is logged and closed; a listener no fd matches is absent (bind it fresh).
   */
  public Map<String, InheritedListener> claim(BatonConfig config) {
    if (fds.isEmpty()) {
      return Map.of();
    }
    Map<String, Configured> configured = new LinkedHashMap<>();
    for (ListenerConfig l : config.listeners()) {
      configured.put(l.name(), new Configured(l.name(), l.address(), l.protocol().wireName()));
    }
    configured.put(
        ConfigLoader.ADMIN_LISTENER_NAME,
        new Configured(ConfigLoader.ADMIN_LISTENER_NAME, config.admin().address(), "admin"));
    Map<String, InheritedListener> claimed = new LinkedHashMap<>();
    for (ActivatedFd fd : fds) {
      InetSocketAddress bound;
      try {
        bound = ListeningFds.boundAddress(fd.fd());
        ListeningFds.makeNonBlocking(fd.fd());
      } catch (IOException e) {
        log.error(
            "systemd socket fd {} ({}) is unusable: {}; closed",
            fd.fd(),
            fd.name(),
            e.getMessage());
        ListeningFds.close(fd.fd());
        continue;
      }
      Configured listener = match(fd, bound, configured);
      if (listener == null) {
        log.warn(
            "systemd socket fd {} (name {}, bound to {}) matches no configured listener by name or"
                + " address: closed",
            fd.fd(),
            fd.name(),
            bound);
        ListeningFds.close(fd.fd());
        continue;
      }
      configured.remove(listener.name());
      claimed.put(
          listener.name(),
          new InheritedListener(
              listener.name(), listener.address().toString(), listener.protocol(), fd.fd()));
      log.info(
          "listener {} ({}) takes systemd socket fd {} (name {}, bound to {})",
          listener.name(),
          listener.address(),
          fd.fd(),
          fd.name(),
          bound);
    }
    return claimed;
  }

  /**
   * Closes every activated fd: a takeover serves the predecessor's sockets, which carry the same
   * ports.
   */
  public void closeAll(String why) {
    for (ActivatedFd fd : fds) {
      ListeningFds.close(fd.fd());
    }
    if (!fds.isEmpty()) {
      log.info("{} systemd socket fd(s) closed: {}", fds.size(), why);
    }
  }

  /** By name first, else by address; a configured port 0 matches no address (any port would do). */
  static Configured match(
      ActivatedFd fd, InetSocketAddress bound, Map<String, Configured> unclaimed) {
    if (fd.name() != null && unclaimed.containsKey(fd.name())) {
      return unclaimed.get(fd.name());
    }
    for (Configured c : unclaimed.values()) {
      if (c.address().port() != 0 && c.address().toSocketAddress().equals(bound)) {
        return c;
      }
    }
    return null;
  }

  /** A listener of the config, as matching sees it. */
  record Configured(String name, HostPort address, String protocol) {}
}
