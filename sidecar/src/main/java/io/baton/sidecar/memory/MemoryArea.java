package io.baton.sidecar.memory;

/** A kind of memory with a limit of its own; the label of the memory metrics. */
enum MemoryArea {
  /** The Java heap, as the last collection left it (what lives, not what waits to be collected). */
  HEAP("heap", "raise -Xmx (BATON_HEAP for bin/baton)"),
  /** Netty's direct (off-heap) buffers. */
  DIRECT("direct", "raise -XX:MaxDirectMemorySize (BATON_DIRECT_MEMORY for bin/baton)"),
  /** The process's resident memory against its container's limit. */
  CONTAINER("container", "raise the container's memory limit, or lower the heap and direct limits");

  private final String label;
  private final String remedy;

  MemoryArea(String label, String remedy) {
    this.label = label;
    this.remedy = remedy;
  }

  String label() {
    return label;
  }

  String remedy() {
    return remedy;
  }
}
