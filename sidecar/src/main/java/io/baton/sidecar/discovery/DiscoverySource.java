package io.baton.sidecar.discovery;

/** Where a discovered cluster's current members came from. */
public enum DiscoverySource {
  /** Nothing yet: etcd has not answered and there was no dump (requests get 503). */
  NONE("none"),
  /** Read from etcd by this process (a read of the prefix, then the watch). */
  ETCD("etcd"),
  /** Read from the dump file at a cold start while etcd could not be reached. */
  DUMP("dump"),
  /** Handed over by the previous generation with its watch revision. */
  PREDECESSOR("predecessor");

  private final String label;

  DiscoverySource(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
