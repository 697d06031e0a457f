package io.baton.handoff.wire;

/** Every thread of the handoff library: a daemon named {@code baton-handoff-*}. */
public final class HandoffThreads {

  private HandoffThreads() {}

  public static Thread start(String name, Runnable body) {
    Thread thread = new Thread(body, "baton-handoff-" + name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
