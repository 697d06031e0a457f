/**
 * Warming a new generation before it says Ready: its own listener pipelines, proxy handlers and
 * upstream clients run a few thousand requests on loopback (a warm-up listener per path, in-process
 * upstreams, in-process clients), so that the connections it takes over meet loaded classes and
 * compiled code. Without it the moved keep-alive connections met a process whose every class on the
 * request path was still to be loaded and whose code was interpreted: every client stalled for
 * hundreds of milliseconds at once (bench/RESULTS.md, issue 14).
 *
 * <p>Nothing here is seen from outside: the warm-up listeners bind 127.0.0.1:0, their metrics go to
 * a registry of their own, and a warm-up that fails or runs out of time is logged and skipped,
 * never fatal: it only makes the first real requests faster.
 */
package io.baton.sidecar.warmup;
