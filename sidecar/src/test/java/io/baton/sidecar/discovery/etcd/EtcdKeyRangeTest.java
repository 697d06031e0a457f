package io.baton.sidecar.discovery.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** etcd's prefix rule (what clientv3.WithPrefix sends): the range end is the prefix "plus one". */
class EtcdKeyRangeTest {

  @Test
  void theLastByteIsIncremented() {
    EtcdKeyRange range = EtcdKeyRange.forPrefix("/baton/web/");
    assertThat(range.key().toStringUtf8()).isEqualTo("/baton/web/");
    assertThat(range.rangeEnd().toStringUtf8()).isEqualTo("/baton/web0");
  }

  @Test
  void aMultiByteCharacterHasItsLastByteIncremented() {
    // "é" is C3 A9 in UTF-8.
    assertThat(EtcdKeyRange.forPrefix("/é").rangeEnd()).isEqualTo(bytes('/', 0xc3, 0xaa));
  }

  @Test
  void trailingFfBytesAreDroppedAndTheByteBeforeThemIncremented() {
    assertThat(EtcdKeyRange.forPrefix(new byte[] {'a', (byte) 0xff, (byte) 0xff}).rangeEnd())
        .isEqualTo(bytes('b'));
  }

  @Test
  void aPrefixOfFfBytesOnlyRangesOverEveryKeyFromIt() {
    EtcdKeyRange range = EtcdKeyRange.forPrefix(new byte[] {(byte) 0xff});
    assertThat(range.key()).isEqualTo(bytes(0xff));
    assertThat(range.rangeEnd()).isEqualTo(bytes(0));
  }

  @Test
  void anEmptyPrefixIsRefusedWithTheExpectedForm() {
    assertThatThrownBy(() -> EtcdKeyRange.forPrefix(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "prefix: \"\" (expected: a non-empty etcd key prefix such as /baton/upstreams/web/)");
  }

  private static ByteString bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return ByteString.copyFrom(b);
  }
}
