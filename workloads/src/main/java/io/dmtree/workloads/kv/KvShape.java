package io.dmtree.workloads.kv;

/**
 * What a system under test must hold: fixed key and value widths and how many entries at most.
 * With 8-byte keys and 8-byte values every system runs its {@code long} path.
 *
 * @param keyBytes   key width, 1..64
 * @param valueBytes value width, 1..256
 * @param entries    most entries the run will store (loaded records plus inserts)
 * @param threads    threads that will open sessions at once
 */
public record KvShape(int keyBytes, int valueBytes, long entries, int threads) {
    public KvShape {
        if (keyBytes < 1 || keyBytes > 64) {
            throw new IllegalArgumentException("key width must be in [1, 64] bytes: " + keyBytes);
        }
        if (valueBytes < 1 || valueBytes > 256) {
            throw new IllegalArgumentException("value width must be in [1, 256] bytes: " + valueBytes);
        }
        if (entries < 0 || threads < 1) {
            throw new IllegalArgumentException("entries must not be negative and threads must be positive");
        }
    }

    /** True when keys and values travel as {@code long}s. */
    public boolean longPath() {
        return keyBytes == 8 && valueBytes == 8;
    }
}
