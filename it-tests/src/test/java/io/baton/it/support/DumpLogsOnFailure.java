package io.baton.it.support;

import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the logs of a failed test's processes, found in the test instance's fields: every Baton
 * process of a {@link BatonFixture}, every container of a {@link Podman}. Containers' logs are
 * printed right after the test method, before {@code @AfterEach} removes the containers.
 */
public final class DumpLogsOnFailure implements TestWatcher, AfterTestExecutionCallback {

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    forEachField(context, BatonFixture.class, BatonFixture::dumpLogs);
  }

  @Override
  public void afterTestExecution(ExtensionContext context) {
    if (context.getExecutionException().isPresent()) {
      forEachField(context, Podman.class, Podman::printLogs);
    }
  }

  private static <T> void forEachField(
      ExtensionContext context, Class<T> type, Consumer<T> action) {
    context
        .getTestInstance()
        .ifPresent(
            instance -> {
              for (var field : instance.getClass().getDeclaredFields()) {
                if (field.getType() == type) {
                  try {
                    field.setAccessible(true);
                    T value = type.cast(field.get(instance));
                    if (value != null) {
                      action.accept(value);
                    }
                  } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                  }
                }
              }
            });
  }
}
