package io.baton.sidecar.config;

/**
 * The admin HTTP listener ({@code /metrics}, {@code /ready}, {@code /healthz}).
 *
 * @param servingHeader when true, proxied HTTP responses carry {@code X-Baton-Generation} so that
 *     tests and operators can see which generation answered
 */
public record AdminConfig(HostPort address, boolean servingHeader) {}
