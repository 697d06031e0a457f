package io.baton.sidecar.config;

/** What a listener speaks; the wire name is what the config and the handoff protocol use. */
public enum ListenerProtocol {
  HTTP("http"),
  TCP("tcp");

  private final String wireName;

  ListenerProtocol(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }
}
