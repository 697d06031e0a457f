package io.baton.sidecar.upstream;

import java.util.Arrays;

/**
 * nginx's smooth weighted round robin ({@code ngx_http_upstream_get_peer}) over candidates known by
 * index. Each pick: every eligible candidate's current weight grows by its weight; the one with the
 * largest current weight (the first of equals) is chosen and its current weight drops by the total
 * of the eligible weights. Weights 5, 1, 1 give {@code a a b a c a a}, then again: each candidate
 * gets exactly its share of every cycle, spread out rather than in runs.
 *
 * <p>Not thread-safe: the owner ({@link Cluster}) calls it under its lock. A pick allocates
 * nothing.
 */
final class SmoothWeightedBalancer {

  private int[] weights = new int[0];
  private long[] current = new long[0];

  /**
   * Replaces the candidates. {@code previousIndex[i]} is the index candidate {@code i} had before,
   * whose current weight it keeps (a re-weighted or reordered member goes on where it was), or -1
   * for a new candidate, which starts at 0.
   */
  void replace(int[] newWeights, int[] previousIndex) {
    if (newWeights.length != previousIndex.length) {
      throw new IllegalArgumentException(
          "previousIndex: "
              + previousIndex.length
              + " entries (expected "
              + newWeights.length
              + ", one per weight)");
    }
    long[] newCurrent = new long[newWeights.length];
    for (int i = 0; i < newWeights.length; i++) {
      if (newWeights[i] < 1) {
        throw new IllegalArgumentException(
            "weights[" + i + "]: " + newWeights[i] + " (expected 1 or more)");
      }
      int before = previousIndex[i];
      newCurrent[i] = before >= 0 && before < current.length ? current[before] : 0;
    }
    weights = newWeights.clone();
    current = newCurrent;
  }

  int size() {
    return weights.length;
  }

  /**
   * Chooses among the candidates whose {@code eligible} entry is true; -1 (and no state change)
   * when none is. Candidates not eligible keep their current weight, as nginx's skipped peers do.
   */
  int pick(boolean[] eligible) {
    int best = -1;
    long total = 0; // long: weights up to Integer.MAX_VALUE each must not overflow
    for (int i = 0; i < weights.length; i++) {
      if (!eligible[i]) {
        continue;
      }
      current[i] += weights[i];
      total += weights[i];
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    if (best >= 0) {
      current[best] -= total;
    }
    return best;
  }

  /** The current weights, for tests. */
  long[] currentWeights() {
    return Arrays.copyOf(current, current.length);
  }
}
