package io.baton.handoff.state;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * What the transition-table tests of every machine share: each test writes the legal moves out once
 * more by hand, and these helpers try every ordered pair of states against it.
 */
public final class TransitionTables {

  private TransitionTables() {}

  /** Every ordered pair (from, to) of the enum's constants, a move to itself included. */
  public static <S extends Enum<S>> Stream<Arguments> everyPair(Class<S> type) {
    List<Arguments> pairs = new ArrayList<>();
    for (S from : type.getEnumConstants()) {
      for (S to : type.getEnumConstants()) {
        pairs.add(Arguments.of(from, to));
      }
    }
    return pairs.stream();
  }

  /**
   * The shortest chain of legal moves from {@code initial} to {@code target} (empty when they are
   * the same).
   *
   * @throws AssertionError if {@code target} cannot be reached: a state nobody can get to is dead
   *     code
   */
  public static <S extends Enum<S>> List<S> pathTo(S initial, S target, Map<S, Set<S>> legal) {
    Map<S, S> cameFrom = new EnumMap<>(initial.getDeclaringClass());
    Deque<S> queue = new ArrayDeque<>(List.of(initial));
    Set<S> seen = EnumSet.of(initial);
    while (!queue.isEmpty()) {
      S state = queue.poll();
      if (state == target) {
        List<S> path = new ArrayList<>();
        for (S at = target; at != initial; at = cameFrom.get(at)) {
          path.add(at);
        }
        Collections.reverse(path);
        return path;
      }
      for (S next : legal.getOrDefault(state, Set.of())) {
        if (seen.add(next)) {
          cameFrom.put(next, state);
          queue.add(next);
        }
      }
    }
    throw new AssertionError(
        target + ": not reachable from " + initial + " (expected: every state is)");
  }

  /** A machine named {@code name}, brought from {@code initial} to {@code state} by legal moves. */
  public static <S extends Enum<S> & StateTable<S>> StateMachine<S> machineIn(
      String name, S initial, S state, Map<S, Set<S>> legal) {
    StateMachine<S> machine = new StateMachine<>(name, initial);
    pathTo(initial, state, legal).forEach(machine::moveTo);
    return machine;
  }
}
