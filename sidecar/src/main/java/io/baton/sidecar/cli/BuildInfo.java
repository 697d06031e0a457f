package io.baton.sidecar.cli;

import io.baton.handoff.process.Handoff;
import picocli.CommandLine;

/** The build version from the jar manifest, and the handoff protocol version. */
public final class BuildInfo implements CommandLine.IVersionProvider {

  public static String version() {
    String v = BuildInfo.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  @Override
  public String[] getVersion() {
    return new String[] {
      "baton " + version() + " (handoff protocol " + Handoff.protocolVersion() + ")"
    };
  }
}
