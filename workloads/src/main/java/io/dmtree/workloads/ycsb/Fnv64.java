package io.dmtree.workloads.ycsb;

/**
 * The 64-bit FNV-1a hash of a {@code long}'s eight bytes, least significant first, as the
 * scrambled zipfian distribution uses it to spread popular items over the key space. The result is
 * made non-negative by clearing the sign bit.
 */
public final class Fnv64 {
    public static final long OFFSET_BASIS = 0xCBF29CE484222325L;
    public static final long PRIME = 0x100000001B3L;

    private Fnv64() {
    }

    public static long hash(long value) {
        long h = OFFSET_BASIS;
        long v = value;
        for (int i = 0; i < Long.BYTES; i++) {
            h ^= v & 0xFF;
            h *= PRIME;
            v >>>= 8;
        }
        return h & Long.MAX_VALUE;
    }
}
