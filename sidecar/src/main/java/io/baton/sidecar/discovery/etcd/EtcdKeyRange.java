package io.baton.sidecar.discovery.etcd;

import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key range [key, rangeEnd) that holds every key with a prefix, by etcd's rule (what {@code
 * clientv3.WithPrefix} sends): range_end is the prefix with its last byte below 0xff incremented
 * and the bytes after it dropped; a prefix of 0xff bytes only has no such end, so "\0", every key
 * from the prefix on.
 */
record EtcdKeyRange(ByteString key, ByteString rangeEnd) {

  private static final ByteString FROM_KEY = ByteString.copyFrom(new byte[] {0});

  static EtcdKeyRange forPrefix(String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException(
          "prefix: \""
              + prefix
              + "\" (expected: a non-empty etcd key prefix such as /baton/upstreams/web/)");
    }
    return forPrefix(prefix.getBytes(StandardCharsets.UTF_8));
  }

  /** The rule on bytes (UTF-8 never has an 0xff byte; etcd keys may). */
  static EtcdKeyRange forPrefix(byte[] key) {
    for (int i = key.length - 1; i >= 0; i--) {
      if ((key[i] & 0xff) != 0xff) {
        byte[] end = Arrays.copyOf(key, i + 1);
        end[i]++;
        return new EtcdKeyRange(ByteString.copyFrom(key), ByteString.copyFrom(end));
      }
    }
    return new EtcdKeyRange(ByteString.copyFrom(key), FROM_KEY);
  }
}
