/**
 * Baton as real processes, for the demo and the process tests: {@link
 * io.baton.testkit.process.BatonConfigFile} writes a config, {@link
 * io.baton.testkit.process.BatonProcess} starts the packaged baton.jar and waits, with a deadline,
 * for its serving line (io.baton.sidecar.server.ServingLine, the one the product prints) or its
 * exit. Signals go to the started pid only.
 */
package io.baton.testkit.process;
