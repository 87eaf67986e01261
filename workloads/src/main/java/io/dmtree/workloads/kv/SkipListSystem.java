package io.dmtree.workloads.kv;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The {@code csl} peer: a {@link ConcurrentSkipListMap} in this JVM's heap, with {@code Long} keys
 * and values on the long path and unsigned-lexicographic {@code byte[]} keys otherwise, so it
 * orders keys exactly as dmtree does.
 */
public final class SkipListSystem implements KvSystem {
    public static final String NAME = "csl";

    private final ConcurrentSkipListMap<Long, Long> longs;
    private final ConcurrentSkipListMap<byte[], byte[]> bytes;

    public SkipListSystem(KvShape shape) {
        if (shape.longPath()) {
            longs = new ConcurrentSkipListMap<>();
            bytes = null;
        } else {
            longs = null;
            bytes = new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String setup() {
        return NAME + ": java.util.concurrent.ConcurrentSkipListMap on the heap, "
                + (longs != null ? "Long keys and values" : "byte[] keys in unsigned order");
    }

    /** Entries held now. */
    public long size() {
        return longs != null ? longs.size() : bytes.size();
    }

    @Override
    public KvSession openSession(int thread) {
        return new Session();
    }

    @Override
    public void close() {
        if (longs != null) {
            longs.clear();
        } else {
            bytes.clear();
        }
    }

    private final class Session implements KvSession {
        private long digest;

        @Override
        public boolean read(long key) {
            Long v = longs.get(key);
            if (v == null) {
                return false;
            }
            digest += ResultDigest.of(v);
            return true;
        }

        @Override
        public void write(long key, long value) {
            longs.put(key, value);
        }

        @Override
        public int scan(long from, int limit) {
            int n = 0;
            if (limit <= 0) {
                return 0;
            }
            for (Map.Entry<Long, Long> e : longs.tailMap(from, true).entrySet()) {
                digest += ResultDigest.of(e.getKey(), e.getValue());
                if (++n == limit) {
                    break;
                }
            }
            return n;
        }

        @Override
        public boolean read(byte[] key) {
            byte[] v = bytes.get(key);
            if (v == null) {
                return false;
            }
            digest += ResultDigest.of(v);
            return true;
        }

        @Override
        public void write(byte[] key, byte[] value) {
            bytes.put(key, value);
        }

        @Override
        public int scan(byte[] from, int limit) {
            int n = 0;
            if (limit <= 0) {
                return 0;
            }
            for (Map.Entry<byte[], byte[]> e : bytes.tailMap(from, true).entrySet()) {
                digest += ResultDigest.of(e.getKey(), e.getValue());
                if (++n == limit) {
                    break;
                }
            }
            return n;
        }

        @Override
        public long digest() {
            return digest;
        }

        @Override
        public void close() {
        }
    }
}
