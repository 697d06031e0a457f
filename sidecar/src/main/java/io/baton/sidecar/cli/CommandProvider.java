package io.baton.sidecar.cli;

import java.util.Map;
import java.util.function.Supplier;

/**
 * Commands that ship in a jar of their own rather than in baton.jar: the test kit's ({@code
 * baton-testkit.jar}: demo, test-upstream, h2-load). {@link TestKitCommands} loads that jar and
 * finds implementations with {@link java.util.ServiceLoader}, so baton.jar never refers to their
 * classes.
 */
public interface CommandProvider {

  /** Each command (a picocli {@code @Command} object) by the name it is called by. */
  Map<String, Supplier<Object>> commands();
}
