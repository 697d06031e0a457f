package io.baton.sidecar.listener;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.function.LongSupplier;

/**
 * How close this process is to its file descriptor limit ({@code RLIMIT_NOFILE}, {@code ulimit
 * -n}). Listeners stop accepting while fewer than {@link #reserve()} descriptors are left, so that
 * the connections already accepted can still open their upstream connections (an accepted client
 * whose upstream {@code connect} fails with EMFILE would get a 502) and a handoff can still open
 * its control sockets.
 */
public final class FdBudget {

  /** Fewest kept free; a large limit keeps 1/16 of itself, up to {@link #MOST_RESERVED}. */
  static final int LEAST_RESERVED = 16;

  static final int MOST_RESERVED = 256;

  private final long limit;
  private final LongSupplier openNow;
  private final int reserve;

  /**
   * What the last check found in use, for {@link #describe()}: a log line must not list {@code
   * /proc/self/fd} again right after a check did.
   */
  private volatile long lastInUse;

  /**
   * @param limit the most descriptors the process may have open; 0 when unknown (then only a failed
   *     accept shows the limit)
   * @param openNow counts the descriptors open now (costly: called only while short of them)
   */
  public FdBudget(long limit, LongSupplier openNow) {
    this.limit = Math.max(0, limit);
    this.openNow = openNow;
    this.reserve = (int) Math.min(MOST_RESERVED, Math.max(LEAST_RESERVED, this.limit / 16));
  }

  /**
   * No reserve: only a failed accept pauses (briefly). For the admin listener, which must still
   * answer a scrape when the data listeners have stopped accepting for want of descriptors.
   */
  public static FdBudget failedAcceptsOnly() {
    return new FdBudget(0, () -> 0);
  }

  /** This JVM's limit and count, where the platform tells them. */
  public static FdBudget ofThisProcess() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      return new FdBudget(unix.getMaxFileDescriptorCount(), unix::getOpenFileDescriptorCount);
    }
    return failedAcceptsOnly();
  }

  public long limit() {
    return limit;
  }

  public int reserve() {
    return reserve;
  }

  /**
   * Whether an accept that returned descriptor {@code fd} leaves less than the reserve. The kernel
   * hands out the lowest free number, so descriptors 0 to {@code fd} are all in use: a cheap lower
   * bound of the count, never an overestimate.
   */
  boolean shortAfterAccepting(int fd) {
    if (limit > 0 && fd + 1L + reserve >= limit) {
      lastInUse = fd + 1L;
      return true;
    }
    return false;
  }

  /** Whether more than the reserve is free now (counts the open descriptors). */
  boolean roomToAccept() {
    if (limit == 0) {
      return true;
    }
    lastInUse = openNow.getAsLong();
    return lastInUse + reserve < limit;
  }

  /**
   * For a log line, as the last check found it (no new count): {@code 84 of 100 file descriptors in
   * use (ulimit -n), 16 kept in reserve}.
   */
  String describe() {
    return limit == 0
        ? "file descriptor limit unknown"
        : lastInUse
            + " of "
            + limit
            + " file descriptors in use (ulimit -n), "
            + reserve
            + " kept in reserve";
  }
}
