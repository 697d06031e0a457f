package io.baton.sidecar.migration;

import io.baton.handoff.ConnectionKind;

/**
 * One protocol's kind of live connection, as the generic migration code names it: each protocol
 * that moves connections declares one beside its handlers, so that {@link ConnectionMover} and
 * {@link ConnectionAdopter} never switch on protocols.
 *
 * @param kind what the handoff calls it on {@code conn.sock}
 * @param listenerProtocol the config name of the listener protocol that serves it ({@code http})
 * @param metricLabel the {@code protocol} label of the migration metrics ({@code http1})
 * @param description how a refusal names it ({@code an HTTP/1.1 connection})
 */
public record MovableKind(
    ConnectionKind kind, String listenerProtocol, String metricLabel, String description) {}
