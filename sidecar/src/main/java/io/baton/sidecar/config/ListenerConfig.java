package io.baton.sidecar.config;

/** A data-plane listener. Its {@code name} is what matches it across generations. */
public record ListenerConfig(String name, HostPort address, ListenerProtocol protocol, String cluster) {}
