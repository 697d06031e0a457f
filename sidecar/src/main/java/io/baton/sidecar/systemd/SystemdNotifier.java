package io.baton.sidecar.systemd;

import java.io.IOException;
import java.net.SocketException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd how this process is doing ({@code sd_notify(3)}): {@code READY=1}, {@code
 * RELOADING=1}, {@code STOPPING=1}, {@code STATUS=}, {@code MAINPID=}. Does nothing when Baton was
 * not started by systemd ({@code NOTIFY_SOCKET} unset). A failed send is logged once and otherwise
 * ignored: systemd watching is no reason to stop serving.
 */
public final class SystemdNotifier {

  private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);

  /** Sends nothing: Baton was not started with {@code NOTIFY_SOCKET}. */
  public static final SystemdNotifier NONE = new SystemdNotifier(null, System::nanoTime);

  private final NotifySocket socket;
  private final LongSupplier monotonicNanos;
  private final AtomicBoolean failureLogged = new AtomicBoolean();

  private SystemdNotifier(NotifySocket socket, LongSupplier monotonicNanos) {
    this.socket = socket;
    this.monotonicNanos = monotonicNanos;
  }

  /** From this process's {@code NOTIFY_SOCKET}. */
  public static SystemdNotifier fromEnvironment() {
    return of(System.getenv(), System::nanoTime);
  }

  /**
   * From {@code env}'s {@code NOTIFY_SOCKET}; {@link #NONE} if unset, or (logged) if unusable.
   *
   * @param monotonicNanos CLOCK_MONOTONIC in nanoseconds, for {@code MONOTONIC_USEC}. {@link
   *     System#nanoTime()} is that clock on Linux (HotSpot reads clock_gettime(CLOCK_MONOTONIC)).
   */
  public static SystemdNotifier of(Map<String, String> env, LongSupplier monotonicNanos) {
    String name = env.get("NOTIFY_SOCKET");
    if (name == null || name.isEmpty()) {
      return NONE;
    }
    try {
      return new SystemdNotifier(new NotifySocket(name), monotonicNanos);
    } catch (SocketException | IllegalArgumentException e) {
      log.error("systemd notifications off: {}", e.getMessage());
      return NONE;
    }
  }

  /**
   * This generation serves: systemd's start-up or reload job is done, and this pid is the one to
   * follow.
   */
  public void ready(String status) {
    send("MAINPID=" + ProcessHandle.current().pid() + "\nREADY=1\nSTATUS=" + status);
  }

  /**
   * A handoff began: systemd shows the unit as reloading until a {@code READY=1}. systemd 253 and
   * later ignore {@code RELOADING=1} without the CLOCK_MONOTONIC time it was sent at.
   */
  public void reloading(String status) {
    send("RELOADING=1\nMONOTONIC_USEC=" + monotonicNanos.getAsLong() / 1000 + "\nSTATUS=" + status);
  }

  /** This process drains to exit, with no successor. */
  public void stopping(String status) {
    send("STOPPING=1\nSTATUS=" + status);
  }

  /** Only the status line shown by {@code systemctl status}. */
  public void status(String status) {
    send("STATUS=" + status);
  }

  /**
   * Whether messages go anywhere: {@code NOTIFY_SOCKET} was set and usable (systemd follows this
   * process).
   */
  public boolean isEnabled() {
    return socket != null;
  }

  private void send(String message) {
    if (socket == null) {
      return;
    }
    try {
      socket.send(message);
      log.debug("told systemd: {}", message.replace('\n', ' '));
    } catch (IOException | RuntimeException e) {
      if (failureLogged.compareAndSet(false, true)) {
        log.warn(
            "systemd notification to NOTIFY_SOCKET {} failed: {} (further failures not logged;"
                + " Baton serves on)",
            socket.name(),
            e.toString());
      }
    }
  }
}
