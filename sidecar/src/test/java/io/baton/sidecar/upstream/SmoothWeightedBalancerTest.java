package io.baton.sidecar.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SmoothWeightedBalancerTest {

  private static final String NAMES = "abcdefgh";

  private static SmoothWeightedBalancer withWeights(int... weights) {
    SmoothWeightedBalancer b = new SmoothWeightedBalancer();
    int[] fresh = new int[weights.length];
    Arrays.fill(fresh, -1);
    b.replace(weights, fresh);
    return b;
  }

  /** {@code n} picks with every candidate eligible, as letters (index 0 is a). */
  private static String picks(SmoothWeightedBalancer b, int n) {
    boolean[] all = new boolean[b.size()];
    Arrays.fill(all, true);
    return picks(b, n, all);
  }

  private static String picks(SmoothWeightedBalancer b, int n, boolean[] eligible) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int chosen = b.pick(eligible);
      s.append(chosen < 0 ? '-' : NAMES.charAt(chosen));
    }
    return s.toString();
  }

  @Test
  void weightsFiveOneOneGiveNginxsDocumentedSequenceEveryCycle() {
    // The example in nginx's commit 52327e0627f4 ("smooth weighted round-robin"): { a, a, b, a, c,
    // a, a }.
    SmoothWeightedBalancer b = withWeights(5, 1, 1);
    assertThat(picks(b, 14)).isEqualTo("aabacaa" + "aabacaa");
    assertThat(b.currentWeights())
        .as("a full cycle returns every current weight to 0")
        .containsExactly(0, 0, 0);
  }

  @Test
  void equalWeightsTakeTurnsInOrder() {
    assertThat(picks(withWeights(1, 1, 1), 7)).isEqualTo("abcabca");
  }

  @Test
  void eachCandidateGetsExactlyItsShare() {
    SmoothWeightedBalancer b = withWeights(3, 1);
    String seq = picks(b, 400);
    assertThat(seq.chars().filter(c -> c == 'a').count()).isEqualTo(300);
    assertThat(seq.chars().filter(c -> c == 'b').count()).isEqualTo(100);
    assertThat(seq).startsWith("aaba" + "aaba");
  }

  @Test
  void ineligibleCandidateIsSkippedAndGetsNoBurstWhenItReturns() {
    SmoothWeightedBalancer b = withWeights(1, 1);
    assertThat(picks(b, 2, new boolean[] {true, false})).isEqualTo("aa");
    assertThat(b.currentWeights())
        .as("a skipped candidate's current weight does not grow")
        .containsExactly(0, 0);
    assertThat(picks(b, 4)).isEqualTo("abab");
  }

  @Test
  void noEligibleCandidateGivesMinusOneAndChangesNothing() {
    SmoothWeightedBalancer b = withWeights(5, 1, 1);
    picks(b, 3);
    long[] before = b.currentWeights();
    assertThat(b.pick(new boolean[] {false, false, false})).isEqualTo(-1);
    assertThat(b.currentWeights()).isEqualTo(before);
    assertThat(withWeights().pick(new boolean[0])).isEqualTo(-1);
  }

  @Test
  void reweighedCandidatesKeepTheirCurrentWeights() {
    SmoothWeightedBalancer b = withWeights(5, 1, 1);
    assertThat(picks(b, 3)).isEqualTo("aab");
    assertThat(b.currentWeights()).containsExactly(1, -4, 3);
    b.replace(new int[] {1, 1, 1}, new int[] {0, 1, 2});
    assertThat(b.currentWeights()).containsExactly(1, -4, 3);
    // b was just chosen and pays that off first; then the three take turns.
    assertThat(picks(b, 9)).isEqualTo("cacacbacb");
    assertThat(picks(b, 6)).isEqualTo("acbacb");
  }

  @Test
  void removedCandidateLeavesTheOthersWhereTheyWere() {
    SmoothWeightedBalancer b = withWeights(5, 1, 1);
    assertThat(picks(b, 3)).isEqualTo("aab");
    b.replace(new int[] {5, 1}, new int[] {0, 2}); // b goes: a and c stay, c is now index 1
    assertThat(b.currentWeights()).containsExactly(1, 3);
    assertThat(picks(b, 12)).as("a, then c (index 1)").isEqualTo("aabaaa" + "aabaaa");
  }

  @Test
  void addedCandidateStartsAtZero() {
    SmoothWeightedBalancer b = withWeights(2, 1);
    assertThat(picks(b, 2)).isEqualTo("ab");
    b.replace(new int[] {2, 1, 1}, new int[] {0, 1, -1});
    assertThat(b.currentWeights()).containsExactly(1, -1, 0);
    assertThat(picks(b, 8)).isEqualTo("acab" + "acab");
  }

  @Test
  void replaceRefusesAWeightBelowOneAndMismatchedLengths() {
    SmoothWeightedBalancer b = withWeights(1);
    assertThatThrownBy(() -> b.replace(new int[] {1, 0}, new int[] {-1, -1}))
        .hasMessage("weights[1]: 0 (expected 1 or more)");
    assertThatThrownBy(() -> b.replace(new int[] {1}, new int[] {-1, -1}))
        .hasMessage("previousIndex: 2 entries (expected 1, one per weight)");
    assertThat(b.size()).as("a refused replace changes nothing").isEqualTo(1);
  }

  @Test
  void largeWeightsDoNotOverflow() {
    SmoothWeightedBalancer b = withWeights(Integer.MAX_VALUE, Integer.MAX_VALUE, 1);
    assertThat(picks(b, 4)).isEqualTo("abab");
  }
}
