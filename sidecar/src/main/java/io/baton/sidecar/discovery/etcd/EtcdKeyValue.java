package io.baton.sidecar.discovery.etcd;

/**
 * One key under the watched prefix as a Range read it.
 *
 * @param key the whole key, prefix included (UTF-8)
 * @param value the value (UTF-8)
 * @param createRevision the revision that created the key (since its last deletion)
 * @param modRevision the revision that last changed it
 * @param version how often it was written since its creation (1 for a new key)
 */
public record EtcdKeyValue(
    String key, String value, long createRevision, long modRevision, long version) {

  @Override
  public String toString() {
    return key + "=" + value + "@" + modRevision;
  }
}
