package io.baton.sidecar.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The etcd processes of one test ({@code @RegisterExtension}): all closed after the test, pass or
 * fail. When the test failed, each one's log is first copied to {@code target/etcd-logs/} (the temp
 * directory is about to be deleted) and that path and the log's end are printed, so a CI failure
 * shows what etcd said.
 */
public final class EtcdProcesses implements AfterEachCallback {

  private final List<EtcdProcess> started = new ArrayList<>();

  public EtcdProcess start() {
    EtcdProcess etcd = EtcdProcess.start();
    started.add(etcd);
    return etcd;
  }

  public EtcdProcess start(int clientPort) {
    EtcdProcess etcd = EtcdProcess.start(clientPort);
    started.add(etcd);
    return etcd;
  }

  @Override
  public void afterEach(ExtensionContext context) throws IOException {
    try {
      if (context.getExecutionException().isPresent()) {
        for (EtcdProcess etcd : started) {
          keepLog(context, etcd);
        }
      }
    } finally {
      for (EtcdProcess etcd : started) {
        etcd.close();
      }
      started.clear();
    }
  }

  private static void keepLog(ExtensionContext context, EtcdProcess etcd) throws IOException {
    Path kept =
        Path.of(
                "target",
                "etcd-logs",
                context.getRequiredTestClass().getSimpleName()
                    + "."
                    + context.getRequiredTestMethod().getName()
                    + "-"
                    + etcd.clientPort()
                    + ".log")
            .toAbsolutePath();
    Files.createDirectories(kept.getParent());
    if (Files.exists(etcd.log())) {
      Files.copy(etcd.log(), kept, StandardCopyOption.REPLACE_EXISTING);
    }
    System.err.println(
        "etcd log of failed test "
            + context.getDisplayName()
            + " ("
            + etcd
            + "): kept at "
            + kept
            + "\n--- last lines ---\n"
            + etcd.logTail(30));
  }
}
