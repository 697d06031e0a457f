/**
 * Cluster members learned at run time from etcd, nginx-upsync style: each key under a cluster's
 * prefix is one member ({@link io.baton.sidecar.discovery.MemberParser}); the members are applied
 * to the cluster as they change, dumped to a file for a start without etcd, and handed to the next
 * generation with the watch revision ({@link io.baton.sidecar.discovery.ClusterDiscovery}).
 */
package io.baton.sidecar.discovery;
