/**
 * An etcd v3 client for one thing: following the keys under a prefix (issue 7, cluster members from
 * etcd, nginx-upsync style). Plain-text gRPC to etcd's KV.Range and Watch.Watch (the messages in
 * baton-proto's {@code etcd/} protos), no TLS, no auth.
 *
 * <p>Invariants:
 *
 * <ul>
 *   <li>A listener hears about a watch on the watch's one thread, one call at a time, in revision
 *       order, and never after {@code close()} has returned.
 *   <li>The revision given with each snapshot or change is one up to which the listener has every
 *       change and nothing after it; resuming from it loses and repeats nothing (unless etcd has
 *       compacted that history: then a fresh snapshot replaces the view).
 *   <li>At most one connection attempt (one channel, one Range or watch stream) is under way per
 *       watch; every wait on etcd has a deadline.
 *   <li>{@code unavailable} is reported once per outage, {@code connected} once per recovery.
 * </ul>
 */
package io.baton.sidecar.discovery.etcd;
