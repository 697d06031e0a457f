package io.baton.sidecar.server;

import io.baton.handoff.PassableListener;
import io.baton.sidecar.drain.DrainEvent;
import io.baton.sidecar.drain.DrainTarget;
import io.baton.sidecar.listener.ListenerContext;
import io.baton.sidecar.listener.ServingSocket;
import io.baton.sidecar.metrics.BatonMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Every listening socket of this process: the data listeners, which a drain waits for, and the
 * admin listener, which it does not (a Prometheus scrape must not keep an old process alive).
 */
final class ListenerSet implements DrainTarget {

  private final List<ServingSocket> data;
  private final Map<String, ListenerContext> contexts;
  private final ServingSocket admin;
  private final BatonMetrics metrics;

  ListenerSet(
      List<ServingSocket> data,
      Map<String, ListenerContext> contexts,
      ServingSocket admin,
      BatonMetrics metrics) {
    this.data = List.copyOf(data);
    this.contexts = Map.copyOf(contexts);
    this.admin = admin;
    this.metrics = metrics;
  }

  List<ServingSocket> data() {
    return data;
  }

  /** What the protocol handlers of each data listener use, by listener name. */
  Map<String, ListenerContext> contexts() {
    return contexts;
  }

  ServingSocket admin() {
    return admin;
  }

  List<ServingSocket> all() {
    List<ServingSocket> all = new ArrayList<>(data);
    all.add(admin);
    return all;
  }

  List<PassableListener> passable() {
    return all().stream()
        .map(
            s ->
                new PassableListener(
                    s.name(), s.configuredAddress().toString(), s.protocol(), s.fd()))
        .toList();
  }

  void startAcceptingData() {
    data.forEach(ServingSocket::startAccepting);
  }

  void startAccepting() {
    all().forEach(ServingSocket::startAccepting);
  }

  /** Stops accepting on the data listeners, and on admin only if the successor adopted it. */
  void stopAccepting(boolean includingAdmin) {
    data.forEach(ServingSocket::stopAccepting);
    if (includingAdmin) {
      admin.stopAccepting();
    }
  }

  void resumeAccepting() {
    startAccepting();
  }

  @Override
  public int openConnections() {
    return data.stream().mapToInt(ServingSocket::openConnections).sum();
  }

  @Override
  public int activeRequests() {
    return (int) data.stream().mapToLong(s -> metrics.listener(s.name()).requestsActive()).sum();
  }

  @Override
  public void announceDrain() {
    for (ServingSocket s : data) {
      metrics.listener(s.name()).setDrainConnections(s.openConnections());
      s.forEachConnection(ch -> ch.pipeline().fireUserEventTriggered(DrainEvent.DRAIN_STARTED));
    }
  }

  @Override
  public int closeRemaining() {
    int open = openConnections();
    data.forEach(ServingSocket::closeConnections);
    return open;
  }

  /** Closes this process's copies of every listening fd and every connection left. */
  void closeAll() {
    for (ServingSocket s : all()) {
      s.closeListener();
      s.closeConnections();
    }
  }
}
