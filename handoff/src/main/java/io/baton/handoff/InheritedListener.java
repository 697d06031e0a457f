package io.baton.handoff;

/**
 * A listening socket received from the predecessor. {@code fd} is this process's own copy, already
 * listening: register it, never bind it.
 */
public record InheritedListener(String name, String address, String protocol, int fd) {}
