/**
 * The checked transition table every state machine of the library goes through: an enum that lists
 * each state's next states and its terminal ones ({@link io.baton.handoff.state.StateTable}), and
 * the holder that refuses any other move ({@link io.baton.handoff.state.StateMachine}). Depends on
 * nothing else of the library.
 */
package io.baton.handoff.state;
