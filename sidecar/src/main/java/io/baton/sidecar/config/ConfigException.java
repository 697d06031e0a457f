package io.baton.sidecar.config;

/**
 * A config that cannot be used. The message has one shape: {@code key: value (expected: what)}, or
 * names the file and the cause when the file itself cannot be read.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
