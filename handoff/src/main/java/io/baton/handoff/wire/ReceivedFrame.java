package io.baton.handoff.wire;

import io.baton.handoff.os.Fds;
import io.baton.proto.handoff.v1.Envelope;

/**
 * One frame as received: its envelope and the fds that came with it. The fds are this process's own
 * copies; whoever takes the frame owns them and must use or {@link #closeFds() close} them.
 */
public record ReceivedFrame(Envelope envelope, int[] fds) {

  public ReceivedFrame {
    fds = fds.clone();
  }

  @Override
  public int[] fds() {
    return fds.clone();
  }

  public Envelope.BodyCase bodyCase() {
    return envelope.getBodyCase();
  }

  public void closeFds() {
    for (int fd : fds) {
      Fds.closeQuietly(fd);
    }
  }
}
