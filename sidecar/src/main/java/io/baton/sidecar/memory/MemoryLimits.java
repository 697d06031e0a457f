package io.baton.sidecar.memory;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * The limits this process runs under.
 *
 * @param heapMax the JVM's maximum heap ({@code -Xmx}, or what the JVM chose)
 * @param directMax the most direct (off-heap) memory Netty may allocate
 * @param container the memory limit of this process's cgroup, if it has one
 * @param heapSized whether the heap was sized on the command line ({@code -Xmx}, {@code
 *     -XX:MaxHeapSize} or {@code -XX:MaxRAMPercentage}), not left to the JVM's default of a quarter
 *     of the machine
 */
public record MemoryLimits(
    long heapMax, long directMax, OptionalLong container, boolean heapSized) {

  /** cgroup v2, then v1; "max" or a v1 limit near 2^63 means none. */
  private static final List<String> LIMIT_FILES =
      List.of("memory.max", "memory/memory.limit_in_bytes");

  private static final long NO_LIMIT_ABOVE = 1L << 60;

  /** This JVM's limits, the container's from {@code /sys/fs/cgroup}. */
  public static MemoryLimits ofThisProcess() {
    List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
    boolean sized =
        args.stream()
            .anyMatch(
                a ->
                    a.startsWith("-Xmx")
                        || a.startsWith("-XX:MaxHeapSize=")
                        || a.startsWith("-XX:MaxRAMPercentage=")
                        || a.startsWith("-XX:MaxRAM="));
    return new MemoryLimits(
        Runtime.getRuntime().maxMemory(),
        PlatformDependent.maxDirectMemory(),
        containerLimit(Path.of("/sys/fs/cgroup")),
        sized);
  }

  /** The memory limit in the cgroup hierarchy mounted at {@code root}, if one is set. */
  static OptionalLong containerLimit(Path root) {
    for (String name : LIMIT_FILES) {
      Path file = root.resolve(name);
      try {
        String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        if (text.equals("max")) {
          return OptionalLong.empty();
        }
        long limit = Long.parseLong(text);
        return limit > 0 && limit < NO_LIMIT_ABOVE ? OptionalLong.of(limit) : OptionalLong.empty();
      } catch (IOException | NumberFormatException e) {
        // not this hierarchy, or unreadable: try the next
      }
    }
    return OptionalLong.empty();
  }

  /** For the start-up log line: {@code heap 96 MiB, direct 64 MiB, container 384 MiB}. */
  @Override
  public String toString() {
    return "heap "
        + mib(heapMax)
        + ", direct "
        + mib(directMax)
        + ", container "
        + (container.isPresent() ? mib(container.getAsLong()) : "no limit");
  }

  static String mib(long bytes) {
    return (bytes + (1 << 19)) / (1 << 20) + " MiB";
  }
}
