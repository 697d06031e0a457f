package io.baton.handoff;

/**
 * A listening socket the outgoing process offers its successor. The fd stays owned by the caller;
 * the kernel gives the successor a copy.
 */
public record PassableListener(String name, String address, String protocol, int fd) {}
