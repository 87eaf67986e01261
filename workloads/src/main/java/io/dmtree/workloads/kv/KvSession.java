package io.dmtree.workloads.kv;

/**
 * One thread's handle on a {@link KvSystem}. The runner uses the {@code long} methods when the
 * shape has the {@link KvShape#longPath() long path} and the {@code byte[]} methods otherwise.
 * {@code long} keys order as signed numbers; byte keys order unsigned-lexicographically.
 *
 * <p>Every session folds what it reads into a {@link ResultDigest}, so tests can prove that
 * systems given the same single-threaded stream returned the same data.
 */
public interface KvSession extends AutoCloseable {
    /** True when the key is present. */
    boolean read(long key);

    /** Inserts or replaces. */
    void write(long key, long value);

    /** Reads up to {@code limit} entries from {@code from} on, in key order; returns how many. */
    int scan(long from, int limit);

    boolean read(byte[] key);

    /** Inserts or replaces; the system may keep both arrays. */
    void write(byte[] key, byte[] value);

    int scan(byte[] from, int limit);

    /** The digest of everything this session read. */
    long digest();

    @Override
    void close();
}
