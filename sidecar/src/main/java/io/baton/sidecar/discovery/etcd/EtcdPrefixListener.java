package io.baton.sidecar.discovery.etcd;

import java.util.List;

/**
 * What an {@link EtcdPrefixWatch} reports. Every method is called on the watch's own thread, one
 * call at a time, in the order things happened; a method that throws is logged and the watch goes
 * on. A slow method delays the ones after it (nothing is dropped).
 *
 * <p>The {@code revision} passed with a snapshot or a change is the revision up to which the
 * listener's view of the prefix is now complete: pass the last one to {@link EtcdPrefixWatch#start}
 * as the resume revision and the successor continues exactly where this watch stopped.
 */
public interface EtcdPrefixListener {

  /**
   * Every key under the prefix as of {@code revision}; replaces whatever the listener knew. Comes
   * first at a start without a resume revision, and again whenever etcd has compacted the history
   * the watch needed.
   */
  void snapshot(List<EtcdKeyValue> keys, long revision);

  /**
   * Changes under the prefix, oldest first, made after the previous snapshot or change; {@code
   * revision} is the last event's mod revision.
   */
  void changed(List<EtcdEvent> events, long revision);

  /**
   * No endpoint answers (or every one failed) since the watch last worked, or since its start.
   * Called once per outage; the watch keeps retrying and calls {@link #connected} when it works
   * again.
   */
  void unavailable(String reason);

  /**
   * The watch runs (again) on {@code endpoint} ({@code host:port}): called when etcd accepted the
   * watch after a start or an outage, after the snapshot it needed if any.
   */
  void connected(String endpoint);
}
