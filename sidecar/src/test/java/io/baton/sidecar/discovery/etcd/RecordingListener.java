package io.baton.sidecar.discovery.etcd;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records every listener call as one line ({@code snapshot@5 [/a=1@2]}, {@code changed@7 [PUT
 * /b=2@6, DELETE /a@7]}, {@code unavailable}, {@code connected 127.0.0.1:2379}), the threads they
 * came on, and whether two ever overlapped, for exact assertions on the sequence.
 */
final class RecordingListener implements EtcdPrefixListener {

  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final List<String> unavailableReasons = new CopyOnWriteArrayList<>();
  private final Set<String> threads = ConcurrentHashMap.newKeySet();
  private final AtomicInteger inCall = new AtomicInteger();
  private volatile boolean overlapped;

  static String snapshot(long revision, String... keys) {
    return "snapshot@" + revision + " " + List.of(keys);
  }

  static String changed(long revision, String... events) {
    return "changed@" + revision + " " + List.of(events);
  }

  static String connected(Object endpoint) {
    return "connected " + endpoint;
  }

  static final String UNAVAILABLE = "unavailable";

  @Override
  public void snapshot(List<EtcdKeyValue> keys, long revision) {
    record("snapshot@" + revision + " " + keys);
  }

  @Override
  public void changed(List<EtcdEvent> events, long revision) {
    record("changed@" + revision + " " + events);
  }

  @Override
  public void unavailable(String reason) {
    unavailableReasons.add(reason);
    record(UNAVAILABLE);
  }

  @Override
  public void connected(String endpoint) {
    record("connected " + endpoint);
  }

  private void record(String call) {
    if (inCall.incrementAndGet() != 1) {
      overlapped = true;
    }
    threads.add(Thread.currentThread().getName());
    calls.add(call);
    inCall.decrementAndGet();
  }

  List<String> calls() {
    return List.copyOf(calls);
  }

  List<String> unavailableReasons() {
    return List.copyOf(unavailableReasons);
  }

  Set<String> threads() {
    return Set.copyOf(threads);
  }

  boolean overlapped() {
    return overlapped;
  }
}
