package io.baton.handoff.rundir;

import io.baton.handoff.peer.ProcessIdentity;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A second process for {@link RunDirectoryTest}: opens the run directory {@code args[0]} as a new
 * instance, makes a file of its own there, prints its instance id and waits until its stdin closes
 * or it is killed. The lock must belong to another process: within one JVM POSIX locks cannot tell
 * two holders apart.
 */
public final class LockHolder {

  public static void main(String[] args) throws Exception {
    RunDirectory runDir = RunDirectory.open(Path.of(args[0]), ProcessIdentity.ofThisProcess());
    Files.createFile(runDir.ownSocket("admin.sock"));
    System.out.println(runDir.self().instanceId());
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for EOF
    }
    runDir.close();
  }
}
