/**
 * The test kit's commands ({@code baton demo}, {@code test-upstream}, {@code h2-load}). baton.jar's
 * CLI loads baton-testkit.jar (beside baton.jar, or named by {@code $BATON_TESTKIT_JAR}) in a class
 * loader under its own and finds them through {@link io.baton.testkit.cli.TestKitCommandProvider}
 * (a {@code ServiceLoader} service); the product never refers to these classes.
 */
package io.baton.testkit.cli;
