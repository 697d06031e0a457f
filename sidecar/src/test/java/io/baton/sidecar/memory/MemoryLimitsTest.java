package io.baton.sidecar.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryLimitsTest {

  @TempDir Path cgroup;

  @Test
  void aCgroupV2LimitIsRead() throws IOException {
    Files.writeString(cgroup.resolve("memory.max"), "402653184\n");
    assertThat(MemoryLimits.containerLimit(cgroup)).hasValue(384L << 20);
  }

  @Test
  void cgroupV2MaxMeansNoLimit() throws IOException {
    Files.writeString(cgroup.resolve("memory.max"), "max\n");
    assertThat(MemoryLimits.containerLimit(cgroup)).isEmpty();
  }

  @Test
  void aCgroupV1LimitIsReadAndItsHugeDefaultMeansNoLimit() throws IOException {
    Files.createDirectories(cgroup.resolve("memory"));
    Files.writeString(cgroup.resolve("memory/memory.limit_in_bytes"), "134217728\n");
    assertThat(MemoryLimits.containerLimit(cgroup)).hasValue(128L << 20);
    Files.writeString(cgroup.resolve("memory/memory.limit_in_bytes"), "9223372036854771712\n");
    assertThat(MemoryLimits.containerLimit(cgroup)).isEmpty();
  }

  @Test
  void noCgroupFilesMeansNoLimit() {
    assertThat(MemoryLimits.containerLimit(cgroup)).isEmpty();
  }

  @Test
  void thisProcessHasAHeapAndADirectLimitAndAResidentSet() {
    MemoryLimits limits = MemoryLimits.ofThisProcess();
    assertThat(limits.heapMax()).isPositive();
    assertThat(limits.directMax()).isPositive();
    assertThat(MemoryWatch.residentBytes()).isPositive();
    assertThat(MemoryWatch.directBytes()).isNotNegative();
  }
}
