package io.baton.sidecar.discovery.etcd;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread of a watch: every state change and every listener call runs here, in order. A
 * daemon (a watch never keeps the JVM alive), named after the prefix for thread dumps and logs.
 *
 * <p>A scheduled executor keeps a task's exception in the task's future, where nobody looks: a
 * failure (even a NoClassDefFoundError from a stale classpath) would stop the watch without a word.
 * Every task that ends with an exception is logged here instead.
 */
final class EtcdWatchThread extends ScheduledThreadPoolExecutor {

  private static final Logger log = LoggerFactory.getLogger(EtcdWatchThread.class);

  private final String name;
  private volatile Thread thread;

  EtcdWatchThread(String name) {
    super(1);
    this.name = name;
    setThreadFactory(
        task -> {
          Thread t = new Thread(task, name);
          t.setDaemon(true);
          thread = t;
          return t;
        });
    // Shutting down must not wait for a pending retry (seconds away) to come due.
    setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    setRemoveOnCancelPolicy(true);
  }

  boolean isCurrent() {
    return Thread.currentThread() == thread;
  }

  @Override
  protected void afterExecute(Runnable task, Throwable thrown) {
    super.afterExecute(task, thrown);
    if (thrown == null
        && task instanceof Future<?> future
        && future.isDone()
        && !future.isCancelled()) {
      try {
        future.get();
      } catch (ExecutionException e) {
        thrown = e.getCause();
      } catch (CancellationException | InterruptedException e) {
        // Not a failure of the task.
      }
    }
    if (thrown != null) {
      log.error("{}: a task failed; the watch may have stopped", name, thrown);
    }
  }
}
