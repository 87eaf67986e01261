package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.TreeReport;

import java.util.List;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;

/**
 * An ordered key-value index on disaggregated memory, as one compute node sees it. Keys are byte
 * strings of the fixed width {@link #keyBytes()}, ordered unsigned-lexicographically; values have
 * the fixed width {@link #valueBytes()}. {@code long} keys are stored big-endian with the sign bit
 * flipped, so they order as signed numbers; {@code long} values are stored big-endian.
 *
 * <p>Thread-safe. <b>Linearizable</b>: the point operations ({@code get}, {@code put},
 * {@code delete}), the conditional and read-modify-write ones ({@code putIfAbsent},
 * {@code replace}, {@code getAndPut}, {@code getAndDelete}, {@code delete(key, expected)},
 * {@code compute}: each one decision under the leaf's lock), and navigation ({@code first},
 * {@code last}, {@code floor}, {@code ceiling}, {@code higher}, {@code lower}: the leaves crossed
 * are validated by their write counters, so if one thread puts 8 and then 13, a concurrent
 * {@code ceiling(8)} never answers 13). {@code getAll} and {@code putAll} are linearizable per key,
 * not as a whole. <b>Weakly consistent</b>: scans, reverse scans, cursors and
 * {@link #approximateSize()}: a scan returns every key that was present for its whole duration,
 * no key that was absent for its whole duration, and no key twice. Wrong widths raise
 * {@link IllegalArgumentException}; use after {@link #close()} raises {@link IllegalStateException}.
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

    // ---- conditional and read-modify-write: linearizable, one decision under the leaf's lock ----

    /** Puts {@code value} unless the key is present; returns null when it put, else the current value (unchanged). */
    byte[] putIfAbsent(byte[] key, byte[] value);

    /** Puts {@code value}; returns the value it replaced, or null when the key was absent. */
    byte[] getAndPut(byte[] key, byte[] value);

    /** Removes the key; returns the value it had, or null when it was absent. */
    byte[] getAndDelete(byte[] key);

    /** Puts {@code value} only when the key is present; returns the value replaced, or null (nothing put). */
    byte[] replace(byte[] key, byte[] value);

    /** Compare-and-set: puts {@code value} only when the key's value equals {@code expected}; true when it did. */
    boolean replace(byte[] key, byte[] expected, byte[] value);

    /** Removes the key only when its value equals {@code expected}; true when it did. */
    boolean delete(byte[] key, byte[] expected);

    /**
     * Read-modify-write under the leaf's lock: {@code function} gets the current value (null when
     * absent) and returns the new one, or null to remove the key. Returns what it returned. Keep it
     * short and do not use the index from it: the leaf stays locked while it runs.
     */
    byte[] compute(byte[] key, UnaryOperator<byte[]> function);

    // ---- batches: each key linearizable, the batch not atomic ----

    /**
     * The values of {@code keys} in their order (null where absent): the leaves the cache names are
     * read in one batch, one round trip per memory node.
     */
    List<byte[]> getAll(List<byte[]> keys);

    /** Puts every entry; the keys of one leaf go in under one hold of its lock. A repeated key keeps its last value. */
    void putAll(List<Entry> entries);

    // ---- navigation: linearizable; null when there is no such entry ----

    Entry first();

    Entry last();

    /** The entry of the least key &ge; {@code key}. */
    Entry ceiling(byte[] key);

    /** The entry of the least key &gt; {@code key}. */
    Entry higher(byte[] key);

    /** The entry of the greatest key &le; {@code key}. */
    Entry floor(byte[] key);

    /** The entry of the greatest key &lt; {@code key}. */
    Entry lower(byte[] key);

    // ---- weakly consistent ----

    /** Up to {@code limit} entries with key &le; {@code from}, in descending key order. */
    List<Entry> reverseScan(byte[] from, int limit);

    /**
     * A resumable cursor over {@code low <= key < high} (either bound null: unbounded), ascending or
     * {@code descending}, fetching {@code batch} entries per scan; weakly consistent like a scan.
     */
    default Cursor cursor(byte[] low, byte[] high, boolean descending, int batch) {
        return new Cursor(this, low, high, descending, batch);
    }

    /** The number of entries, counted over the leaves (one READ per leaf); exact when nothing changes meanwhile. */
    long approximateSize();

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

    /**
     * Operations with variable-length values (0 to {@link io.dmtree.core.tree.ValueLayout#MAX_VALUE_BYTES}
     * bytes), for an index created with them ({@code DmTree.embedded().variableValues(true)}).
     *
     * @throws IllegalArgumentException when this index stores fixed-width values
     */
    default io.dmtree.core.tree.VariableValues values() {
        throw new IllegalArgumentException("this index view offers no variable-length values");
    }
}
