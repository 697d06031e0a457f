package io.baton.sidecar.adminrpc;

import io.baton.proto.admin.v1.StatusReply;
import io.baton.sidecar.upgrade.NextGenerationLauncher;
import java.nio.file.Path;

/** What the admin API acts on: the running process. */
public interface AdminTarget {

  StatusReply status();

  /**
   * Starts the next generation ({@code jar}, {@code config}: null for the running ones), held if
   * {@code hold}.
   */
  NextGenerationLauncher.Launch upgrade(Path jar, Path config, boolean hold);

  /** Ends a hold with a commit; false if no successor is held. */
  boolean commit();

  /** Ends a hold with an abort; false if no successor is held. */
  boolean abort(String reason);

  /**
   * Begins draining without a successor (the process exits when done); returns the connections
   * open.
   */
  long drain();

  HandoffEventFeed events();
}
