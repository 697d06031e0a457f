package io.baton.sidecar.server;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a stopping generation lets go of, in order, each step on its own: a failure to release one
 * thing (e.g. the run directory removed under us) must not keep the process from exiting.
 */
final class Releases {

  /** Logs as the server did before this class was split from it: operators filter on that name. */
  private static final Logger log = LoggerFactory.getLogger(SidecarServer.class);

  private record Step(String what, Runnable release) {}

  private final List<Step> steps = new ArrayList<>();

  /** Releases {@code what} after the steps added before. */
  Releases then(String what, Runnable release) {
    steps.add(new Step(what, release));
    return this;
  }

  /** Runs every step; one that throws is logged and the next runs. */
  void releaseAll() {
    for (Step step : steps) {
      try {
        step.release().run();
      } catch (RuntimeException e) {
        log.error("stopping: releasing {} failed: {}", step.what(), e.toString(), e);
      }
    }
  }
}
