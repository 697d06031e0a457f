package io.baton.sidecar.cli;

/** Process exit codes, for scripts and orchestrators. */
final class ExitCodes {
  static final int OK = 0;

  /** The generation could not start or take over (the reason is on stderr). */
  static final int CANNOT_START = 1;

  /** The config file is missing, unreadable or invalid. */
  static final int BAD_CONFIG = 2;

  /**
   * No active Baton answers on admin.sock (none runs, the socket is stale, or this caller is
   * refused).
   */
  static final int UNAVAILABLE = 3;

  /**
   * The active Baton refused the request (an upgrade while one is under way, an invalid config).
   */
  static final int REFUSED = 4;

  /** SIGTERM/SIGINT came before this generation served anything (as the JVM's own 128 + 15). */
  static final int STOPPED_WHILE_STARTING = 143;

  private ExitCodes() {}
}
