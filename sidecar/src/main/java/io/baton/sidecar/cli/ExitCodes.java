package io.baton.sidecar.cli;

/** Process exit codes, for scripts and orchestrators. */
final class ExitCodes {
  static final int OK = 0;
  /** The generation could not start or take over (the reason is on stderr). */
  static final int CANNOT_START = 1;
  /** The config file is missing, unreadable or invalid. */
  static final int BAD_CONFIG = 2;

  private ExitCodes() {}
}
