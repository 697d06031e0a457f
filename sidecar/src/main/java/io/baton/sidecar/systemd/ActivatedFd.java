package io.baton.sidecar.systemd;

/**
 * One socket systemd passed at start-up: {@code fd} (3, 4, ...) and its {@code FileDescriptorName=}
 * from {@code LISTEN_FDNAMES}, or null when systemd named none.
 */
public record ActivatedFd(int fd, String name) {}
