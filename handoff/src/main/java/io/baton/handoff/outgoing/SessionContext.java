package io.baton.handoff.outgoing;

import io.baton.handoff.DrainOutcome;
import io.baton.handoff.HandoffEvents;
import io.baton.handoff.HandoffSettings;
import io.baton.handoff.HandoffSource;
import io.baton.handoff.peer.PeerCheck;
import io.baton.handoff.rundir.RunDirectory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every session of this process shares: where it runs, how, for whom, and who reports.
 *
 * @param ticker the one timer thread of the outgoing side: it only posts {@link
 *     SessionEvent.ProgressTick}s, never touches a session's state
 * @param successorTookOver completed by the session whose successor took over, once its drain has
 *     finished
 */
record SessionContext(
    RunDirectory runDir,
    HandoffSettings settings,
    HandoffEvents events,
    HandoffSource source,
    PredecessorChain predecessors,
    PeerCheck peers,
    Admission admission,
    ScheduledExecutorService ticker,
    CompletableFuture<DrainOutcome> successorTookOver) {}
