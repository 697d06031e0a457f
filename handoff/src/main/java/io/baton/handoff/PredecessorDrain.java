package io.baton.handoff;

/**
 * One older generation that still drains, as its successor last heard of it: directly (the
 * process's own predecessor) or relayed down the chain by the generations in between.
 */
public record PredecessorDrain(long generation, long pid, DrainProgress progress) {}
