package io.baton.it.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads {@code /metrics} back to back, as Prometheus would at a very short interval, and notes
 * every scrape that failed and every counter series that is lower than in the scrape before it
 * (Prometheus reads that as a reset). Bounded: it stops by itself after five minutes.
 */
public final class CounterScraper {

  private static final Duration LONGEST = Duration.ofMinutes(5);

  private final InetSocketAddress admin;
  private final List<String> prefixes;
  private final Map<String, Double> last = new ConcurrentHashMap<>();
  private final List<String> decreases = new CopyOnWriteArrayList<>();
  private final List<String> errors = new CopyOnWriteArrayList<>();
  private final AtomicLong scrapes = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;

  /**
   * Watches the series whose lines start with one of {@code prefixes} (e.g. {@code
   * baton_requests_total{}).
   */
  public CounterScraper(InetSocketAddress admin, String... prefixes) {
    this.admin = admin;
    this.prefixes = List.of(prefixes);
    this.thread = new Thread(this::run, "counter-scraper");
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  public void stop() throws InterruptedException {
    running = false;
    thread.join(Duration.ofSeconds(30).toMillis());
  }

  public long scrapes() {
    return scrapes.get();
  }

  public List<String> decreases() {
    return decreases;
  }

  public List<String> errors() {
    return errors;
  }

  /**
   * The value of {@code series} (the whole name with labels, as watched) in the last scrape; NaN if
   * never seen.
   */
  public double last(String series) {
    return last.getOrDefault(series, Double.NaN);
  }

  @Override
  public String toString() {
    return scrapes.get()
        + " scrapes, "
        + errors.size()
        + " failed, "
        + decreases.size()
        + " decreases";
  }

  private void run() {
    long deadline = System.nanoTime() + LONGEST.toNanos();
    while (running && System.nanoTime() < deadline) {
      String text;
      try {
        text = Admin.metrics(admin);
      } catch (IOException e) {
        errors.add(e.toString());
        continue;
      }
      long n = scrapes.incrementAndGet();
      text.lines()
          .filter(l -> prefixes.stream().anyMatch(l::startsWith))
          .forEach(
              l -> {
                int space = l.lastIndexOf(' ');
                String series = l.substring(0, space);
                double value = Double.parseDouble(l.substring(space + 1));
                Double previous = last.put(series, value);
                if (previous != null && value < previous) {
                  decreases.add("scrape " + n + ": " + series + " " + previous + " -> " + value);
                }
              });
    }
  }
}
