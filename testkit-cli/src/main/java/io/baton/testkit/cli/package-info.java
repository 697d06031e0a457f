/**
 * The test kit's commands ({@code baton demo}, {@code test-upstream}, {@code h2-load}). baton.jar's
 * CLI finds them through {@link io.baton.testkit.cli.TestKitCommandProvider} (a {@code
 * ServiceLoader} service) when baton-testkit.jar is on the class path after baton.jar; the
 * product never refers to these classes.
 */
package io.baton.testkit.cli;
