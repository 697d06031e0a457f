package io.baton.sidecar.discovery;

/**
 * A cluster that must have its members from etcd cannot have them: this generation does not start.
 */
public final class DiscoveryUnavailableException extends Exception {
  public DiscoveryUnavailableException(String message) {
    super(message);
  }
}
