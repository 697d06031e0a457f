package io.baton.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What {@code /proc} shows of a process: its open fds, by kind ({@code socket}, {@code file},
 * {@code pipe}, {@code [eventpoll]}...), and its threads, by name (a trailing number replaced by
 * {@code N}, so that {@code baton-io-1-3} and {@code baton-io-1-4} count as one name). The kinds
 * and names are there to say what differs when two counts do.
 *
 * @param fds the number of entries of {@code /proc/PID/fd}
 * @param fdKinds how many of them are of each kind
 * @param threads the number of entries of {@code /proc/PID/task}
 * @param threadNames how many threads have each name
 */
public record ProcFigures(
    int fds, Map<String, Integer> fdKinds, int threads, Map<String, Integer> threadNames) {

  public ProcFigures {
    fdKinds = Map.copyOf(fdKinds);
    threadNames = Map.copyOf(threadNames);
  }

  /** Reads the figures of {@code pid}, which must be alive. */
  public static ProcFigures of(long pid) {
    Path proc = Path.of("/proc", Long.toString(pid));
    Map<String, Integer> kinds = new TreeMap<>();
    List<Path> fds = list(proc.resolve("fd"));
    for (Path fd : fds) {
      kinds.merge(kindOf(fd), 1, Integer::sum);
    }
    Map<String, Integer> names = new TreeMap<>();
    List<Path> tasks = list(proc.resolve("task"));
    for (Path task : tasks) {
      names.merge(nameOf(task), 1, Integer::sum);
    }
    return new ProcFigures(fds.size(), kinds, tasks.size(), names);
  }

  @Override
  public String toString() {
    return fds
        + " fds "
        + new TreeMap<>(fdKinds)
        + ", "
        + threads
        + " threads "
        + new TreeMap<>(threadNames);
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  /** An fd closed between the listing and this read counts as {@code (gone)}. */
  private static String kindOf(Path fd) {
    String target;
    try {
      target = Files.readSymbolicLink(fd).toString();
    } catch (NoSuchFileException e) {
      return "(gone)";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + fd, e);
    }
    if (target.startsWith("/")) {
      return "file";
    }
    if (target.startsWith("anon_inode:")) {
      return target.substring("anon_inode:".length());
    }
    int colon = target.indexOf(':');
    return colon > 0 ? target.substring(0, colon) : target;
  }

  private static String nameOf(Path task) {
    try {
      return Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+$", "N");
    } catch (NoSuchFileException e) {
      return "(gone)";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + task.resolve("comm"), e);
    }
  }
}
