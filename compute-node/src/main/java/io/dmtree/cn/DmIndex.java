package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeReport;

import java.util.List;
import java.util.OptionalLong;

/**
 * An ordered key-value index on disaggregated memory, as one compute node sees it. Keys are byte
 * strings of the fixed width {@link #keyBytes()}, ordered unsigned-lexicographically; values have
 * the fixed width {@link #valueBytes()}. {@code long} keys are stored big-endian with the sign bit
 * flipped, so they order as signed numbers; {@code long} values are stored big-endian.
 *
 * <p>Thread-safe. Every operation is linearizable, scans excepted: a scan returns every key that
 * was present for its whole duration and no key that was absent for its whole duration. Wrong
 * widths raise {@link IllegalArgumentException}; use after {@link #close()} raises
 * {@link IllegalStateException}.
 */
public interface DmIndex extends AutoCloseable {
    int keyBytes();

    int valueBytes();

    /** Inserts or replaces. */
    void put(byte[] key, byte[] value);

    /** The value, or null when absent. */
    byte[] get(byte[] key);

    /** Removes the key; true when it was present. */
    boolean delete(byte[] key);

    /** Up to {@code limit} entries with key &ge; {@code from}, in key order. */
    List<Entry> scan(byte[] from, int limit);

    /** Every entry with {@code from} &le; key &lt; {@code toExclusive}, in key order. */
    List<Entry> range(byte[] from, byte[] toExclusive);

    /** Calls {@code visitor} for up to {@code limit} entries with key &ge; {@code from}; returns how many. */
    int scan(byte[] from, int limit, EntryVisitor visitor);

    // ---- long fast path: needs 8-byte keys (and 8-byte values for long values) ----

    void put(long key, long value);

    OptionalLong get(long key);

    boolean delete(long key);

    /** Entries of {@code long} keys and values with key &ge; {@code from}, in key order. */
    List<LongEntry> scan(long from, int limit);

    /** Calls {@code visitor} for up to {@code limit} {@code long} entries with key &ge; {@code from}; returns how many. */
    int scan(long from, int limit, LongEntryVisitor visitor);

    /** {@code long} entries with {@code from} &le; key &lt; {@code toExclusive}. */
    List<LongEntry> range(long from, long toExclusive);

    // ---- statistics ----

    /** Verbs, bytes and round trips this compute node sent to all memory nodes so far. */
    VerbCounts memoryNodeTraffic();

    /** Index cache hits and misses of this compute node so far. */
    CacheStats cacheStats();

    /** Checks the whole tree's structure (see the tree checker); quiescent use only. */
    TreeReport check();

    @Override
    void close();

    /** A key and its value. The arrays are owned by the entry. */
    record Entry(byte[] key, byte[] value) {
    }

    record LongEntry(long key, long value) {
    }

    record CacheStats(long hits, long misses, long bytes, long capacityBytes) {
        public double hitRatio() {
            long all = hits + misses;
            return all == 0 ? 0.0 : (double) hits / all;
        }
    }

    @FunctionalInterface
    interface LongEntryVisitor {
        /** Return false to stop. */
        boolean visit(long key, long value);
    }

    @FunctionalInterface
    interface EntryVisitor {
        /** Buffers are valid only during the call. Return false to stop. */
        boolean visit(byte[] key, byte[] value);
    }
}
