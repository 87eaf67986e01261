package io.dmtree.workloads.ycsb;

/**
 * The values operations write, derived from a stamp (the record number for the load phase, the
 * operation's position for the run phase) and the seed, so every system writes the same bytes.
 */
public final class ValueSource {
    /** Stamps of run-phase writes start here so they never equal a load stamp. */
    public static final long RUN_STAMP_BASE = 1L << 62;

    private final int valueBytes;
    private final long salt;

    public ValueSource(int valueBytes, long seed) {
        if (valueBytes < 1 || valueBytes > 256) {
            throw new IllegalArgumentException("value width must be in [1, 256] bytes: " + valueBytes);
        }
        this.valueBytes = valueBytes;
        this.salt = mix(seed ^ 0x5DEECE66DL);
    }

    public int valueBytes() {
        return valueBytes;
    }

    /** The SplitMix64 finalizer: a bijective mix of 64 bits. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The value of {@code stamp} as a {@code long} (8-byte values). */
    public long longValue(long stamp) {
        return mix(stamp ^ salt);
    }

    /** A new array holding the value of {@code stamp}. */
    public byte[] value(long stamp) {
        byte[] v = new byte[valueBytes];
        long x = longValue(stamp);
        for (int i = 0; i < valueBytes; i++) {
            if (i > 0 && (i & 7) == 0) {
                x = mix(x);
            }
            v[i] = (byte) (x >>> (8 * (i & 7)));
        }
        return v;
    }
}
