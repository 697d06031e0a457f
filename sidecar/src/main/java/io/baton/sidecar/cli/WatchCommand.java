package io.baton.sidecar.cli;

import io.baton.proto.admin.v1.DrainStatus;
import io.baton.proto.admin.v1.HandoffEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code baton watch}: the phases of the active process as they happen, until it stops. */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = {
      "Follow the active Baton: one line per phase of a handoff, a progress bar while it drains.",
      "Ends when that process stops (after handing over, or after a drain)."
    })
final class WatchCommand implements Callable<Integer> {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  private static final int BAR_WIDTH = 30;

  @Mixin AdminCall call;

  /** Connections open when the drain began: the full width of the bar. */
  private long drainStart = -1;

  private String lastBar = "";

  @Override
  public Integer call() {
    // The timeout bounds each unary call; the stream lasts as long as the process does.
    boolean answered =
        call.ask(
                "watch",
                client -> {
                  client.watch(this::print);
                  return true;
                })
            .isPresent();
    return answered ? ExitCodes.OK : ExitCodes.UNAVAILABLE;
  }

  private void print(HandoffEvent e) {
    if (call.json()) {
      System.out.println(AdminCall.json(e));
      System.out.flush();
      return;
    }
    String time = TIME.format(Instant.ofEpochMilli(e.getUnixMillis()));
    if (e.getPhase().equals("drain_progress")) {
      String bar = bar(e.getDrain());
      if (!bar.equals(lastBar)) { // a line per change, not per tick
        lastBar = bar;
        System.out.println(time + " generation " + e.getGeneration() + " drain " + bar);
      }
    } else {
      System.out.println(
          time
              + " generation "
              + e.getGeneration()
              + " "
              + e.getPhase()
              + (e.getDetail().isEmpty() ? "" : ": " + e.getDetail()));
    }
    System.out.flush();
  }

  private String bar(DrainStatus d) {
    if (drainStart < 0) {
      drainStart = Math.max(1, d.getConnectionsLeft());
    }
    long done = Math.max(0, drainStart - d.getConnectionsLeft());
    int filled = (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / drainStart);
    return "["
        + "#".repeat(filled)
        + "-".repeat(BAR_WIDTH - filled)
        + "] "
        + StatusCommand.describe(d);
  }
}
