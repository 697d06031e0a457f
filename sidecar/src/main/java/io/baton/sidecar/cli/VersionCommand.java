package io.baton.sidecar.cli;

import io.baton.handoff.process.Handoff;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints the build version, or with {@code --protocol} only the handoff protocol version. */
@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    description = "Print the version of this binary.")
final class VersionCommand implements Callable<Integer> {

  @Option(
      names = "--protocol",
      description =
          "Print only the handoff protocol version as VERSION.REVISION; two binaries hand off only"
              + " if VERSION matches; a lower REVISION lacks newer messages (revision 2: handing"
              + " over during a drain).")
  boolean protocol;

  @Override
  public Integer call() {
    System.out.println(
        protocol ? Handoff.printableProtocolVersion() : new BuildInfo().getVersion()[0]);
    return 0;
  }
}
