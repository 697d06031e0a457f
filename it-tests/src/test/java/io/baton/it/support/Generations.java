package io.baton.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.baton.sidecar.server.ServingLine;
import io.baton.testkit.process.BatonProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/** The chain of generations of one run directory: starts the next one and waits for the handoff. */
public final class Generations {

  public static final Duration WAIT = Duration.ofSeconds(60);

  private final Supplier<BatonProcess> starter;
  private BatonProcess active;
  private ServingLine serving;

  public Generations(BatonFixture fixture, Path config) {
    this(() -> fixture.start(config));
  }

  /** Each generation started by {@code starter} (e.g. in a pid namespace of its own). */
  public Generations(Supplier<BatonProcess> starter) {
    this.starter = starter;
  }

  /** Cold-starts generation 1. */
  public ServingLine start() {
    active = starter.get();
    serving = active.awaitServing(WAIT);
    assertThat(serving.generation()).isEqualTo(1);
    return serving;
  }

  /**
   * Starts the next generation, waits for it to serve and for its predecessor to drain and exit
   * with 0; returns the new serving line.
   */
  public ServingLine handOff() {
    BatonProcess previous = active;
    BatonProcess next = starter.get();
    ServingLine line = next.awaitServing(WAIT);
    assertThat(line.generation()).isEqualTo(serving.generation() + 1);
    assertThat(line.listeners())
        .as("the same sockets, so the same ports")
        .isEqualTo(serving.listeners());
    assertThat(line.admin())
        .as("the admin listener is handed over too (same configured address)")
        .isEqualTo(serving.admin());
    assertThat(previous.awaitExit(WAIT)).as("the predecessor's exit code").isZero();
    active = next;
    serving = line;
    return line;
  }

  /**
   * Starts the next generation and waits for it to serve, but not for its predecessor to exit: a
   * stream on the predecessor can outlive the handoff. Returns the predecessor, still draining; the
   * caller awaits its exit.
   */
  public BatonProcess handOffWhilePredecessorDrains() {
    BatonProcess previous = active;
    BatonProcess next = starter.get();
    ServingLine line = next.awaitServing(WAIT);
    assertThat(line.generation()).isEqualTo(serving.generation() + 1);
    assertThat(line.listeners())
        .as("the same sockets, so the same ports")
        .isEqualTo(serving.listeners());
    active = next;
    serving = line;
    return previous;
  }

  public BatonProcess active() {
    return active;
  }

  public ServingLine serving() {
    return serving;
  }
}
