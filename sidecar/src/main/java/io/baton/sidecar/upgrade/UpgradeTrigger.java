package io.baton.sidecar.upgrade;

/** What asked for the next generation; the label of {@code baton_upgrades_total{trigger}}. */
public enum UpgradeTrigger {
  /** nginx's binary upgrade: the same command line, which may now run a new jar. */
  SIGUSR2("sigusr2", false),
  /** A config reload: the same command line, once the config file is known to load. */
  SIGHUP("sighup", true),
  /** {@code baton upgrade} through admin.sock, maybe with another jar or config file. */
  ADMIN("admin", true);

  private final String label;
  private final boolean checksConfigFirst;

  UpgradeTrigger(String label, boolean checksConfigFirst) {
    this.label = label;
    this.checksConfigFirst = checksConfigFirst;
  }

  public String label() {
    return label;
  }

  /** Whether an invalid config file refuses the request before anything starts. */
  public boolean checksConfigFirst() {
    return checksConfigFirst;
  }
}
