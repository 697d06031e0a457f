/** How Baton's own logs are set up: one line per event on stderr, naming the process. */
package io.baton.sidecar.logging;
