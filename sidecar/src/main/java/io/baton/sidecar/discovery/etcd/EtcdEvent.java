package io.baton.sidecar.discovery.etcd;

/**
 * One change of a key under the watched prefix.
 *
 * @param type what happened to the key
 * @param key the whole key, prefix included (UTF-8)
 * @param value the new value for a PUT; empty for a DELETE
 * @param modRevision the revision of this change
 */
public record EtcdEvent(Type type, String key, String value, long modRevision) {

  public enum Type {
    /** The key was created or its value replaced. */
    PUT,
    /** The key was deleted (or its lease expired). */
    DELETE
  }

  @Override
  public String toString() {
    return type == Type.PUT
        ? "PUT " + key + "=" + value + "@" + modRevision
        : "DELETE " + key + "@" + modRevision;
  }
}
