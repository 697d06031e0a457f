package io.baton.sidecar.upgrade;

/**
 * What became of a request for the next generation; the label of {@code
 * baton_upgrades_total{result}}.
 */
public enum UpgradeResult {
  /** The next generation was started; it takes over through the run directory. */
  STARTED("started"),
  /** The config file does not load (or moved the run directory): nothing was started. */
  INVALID_CONFIG("invalid_config"),
  /** A next generation is already starting, or this one is not serving: nothing was started. */
  BUSY("busy"),
  /** The operating system refused to start the process. */
  SPAWN_FAILED("spawn_failed");

  private final String label;

  UpgradeResult(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
