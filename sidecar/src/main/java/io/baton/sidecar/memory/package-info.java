/**
 * How much memory this process may use and how close it is to that: the JVM's heap and direct
 * memory limits, the container's limit, and a watch that says so in the log and in metrics before
 * an out-of-memory can happen, never after. Two generations share a machine (or a container) during
 * every handoff, so each must stay within its share.
 */
package io.baton.sidecar.memory;
