package io.dmtree.workloads.kv;

import org.agrona.DirectBuffer;

/**
 * Order-independent digests of what a session read: each observation is hashed and added, so the
 * total does not depend on which thread saw what first. Byte sequences hash the same whether they
 * arrive as arrays or as buffers.
 */
public final class ResultDigest {
    private static final long PRIME = 0x100000001B3L;

    private ResultDigest() {
    }

    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static long of(long value) {
        return mix(value + 0x632BE59BD9B4E019L);
    }

    /** A scanned {@code long} entry. */
    public static long of(long key, long value) {
        return mix(of(key) ^ value);
    }

    public static long of(byte[] bytes) {
        long h = 0xCBF29CE484222325L;
        for (byte b : bytes) {
            h = (h ^ (b & 0xFF)) * PRIME;
        }
        return mix(h);
    }

    public static long of(DirectBuffer buffer, int offset, int length) {
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < length; i++) {
            h = (h ^ (buffer.getByte(offset + i) & 0xFF)) * PRIME;
        }
        return mix(h);
    }

    /** A scanned byte entry. */
    public static long of(byte[] key, byte[] value) {
        return mix(of(key) ^ of(value));
    }
}
