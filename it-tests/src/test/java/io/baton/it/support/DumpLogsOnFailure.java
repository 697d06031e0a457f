package io.baton.it.support;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/** Prints every Baton process's log of a failed test, found in the test instance's fixture field. */
public final class DumpLogsOnFailure implements TestWatcher {

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    context.getTestInstance().ifPresent(instance -> {
      for (var field : instance.getClass().getDeclaredFields()) {
        if (field.getType() == BatonFixture.class) {
          try {
            field.setAccessible(true);
            BatonFixture f = (BatonFixture) field.get(instance);
            if (f != null) {
              f.dumpLogs();
            }
          } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
          }
        }
      }
    });
  }
}
