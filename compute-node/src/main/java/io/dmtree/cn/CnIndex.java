package io.dmtree.cn;

import io.dmtree.cn.replica.ReplicaDownException;
import io.dmtree.cn.replica.ReplicatingVerbs;
import io.dmtree.cn.replica.StaleReplicaEpochException;
import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.BLinkTree;
import io.dmtree.core.tree.BatchedOperations;
import io.dmtree.core.tree.EntryUpdates;
import io.dmtree.core.tree.VariableValues;
import io.dmtree.core.tree.TreeNavigation;
import io.dmtree.core.tree.IndexCache;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.TreeReport;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/** {@link DmIndex} over one compute node's tree. */
final class CnIndex implements DmIndex {
    private final ComputeNode node;
    private final BLinkTree tree;
    private final int keyBytes;
    private final int valueBytes;
    private final ThreadLocal<UnsafeBuffer> valueScratch;
    private final EntryUpdates updates;
    private final TreeNavigation navigation;
    private final BatchedOperations batches;
    private final VariableValues values;
    private volatile boolean closed;
    /** The replicating verbs of replicated regions, or null: operations then retry across failovers. */
    private final ReplicatingVerbs replicas;
    private volatile Runnable onClose = () -> { };

    CnIndex(ComputeNode node) {
        this.node = node;
        this.replicas = node.verbs() instanceof ReplicatingVerbs r ? r : null;
        this.tree = node.tree();
        this.keyBytes = node.treeConfig().keyBytes();
        this.valueBytes = node.treeConfig().valueBytes();
        this.valueScratch = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[valueBytes]));
        this.updates = new EntryUpdates(tree);
        this.navigation = new TreeNavigation(tree);
        this.batches = new BatchedOperations(tree);
        this.values = node.treeConfig().variableValues() ? new VariableValues(tree) : null;
    }

    /**
     * Operations with variable-length values, for an index created with them
     * ({@code DmTree.embedded().variableValues(true)}); the fixed-width value operations of this
     * view do not apply to such an index.
     */
    @Override
    public VariableValues values() {
        if (values == null) {
            throw new IllegalArgumentException("this index stores fixed-width values of " + valueBytes
                    + " bytes; create it with variable-length values to use them");
        }
        return values;
    }

    /** This view's navigation (tests reach its diagnostics through it). */
    TreeNavigation navigation() {
        return navigation;
    }

    /** What closing this view also does (the single-node embedded index stops its cluster). */
    void onClose(Runnable action) {
        this.onClose = action;
    }

    void markClosed() {
        closed = true;
    }

    /**
     * The fixed-width value operations of this view write and read the leaf's value slot as the
     * value: in an index of variable-length values that slot is a descriptor, so they are refused
     * there (a raw slot written could name another key's value block).
     */
    private void fixedValues() {
        if (values != null) {
            throw new IllegalArgumentException("this index stores variable-length values: use values() for its point"
                    + " operations");
        }
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("the index of compute node " + node.id() + " is closed");
        }
        node.checkNotFenced();
    }

    /**
     * A mutation begins: it counts in the node's {@link InFlightWork} until it returns ({@link
     * InFlightWork#exit}) or fails ({@link #failed}), so a leave after one that ended half-way (a
     * split between its halves, a write-back cut off) is not taken for a clean one.
     */
    /** With replicated regions, an operation begins in the current placement epoch; returns it (0: none). */
    private long begin() {
        return replicas == null ? 0 : replicas.beginOperation();
    }

    private void end() {
        if (replicas != null) {
            replicas.endOperation();
        }
    }

    /**
     * True when {@code e} ended an operation begun in {@code epoch} because its region failed over
     * (or is about to): it waits for the newer placement, and the operation retries from its first
     * verb. An update retried writes the same value again: whether or not the first attempt took
     * effect, the key ends with this value.
     */
    private boolean retriesAfterFailover(RuntimeException e, long epoch, int attempt) {
        if (replicas == null || attempt >= MAX_FAILOVER_RETRIES
                || !(e instanceof StaleReplicaEpochException || e instanceof ReplicaDownException)) {
            return false;
        }
        try {
            return replicas.awaitEpochAbove(epoch, FAILOVER_WAIT_NANOS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static final int MAX_FAILOVER_RETRIES = 64;
    static final long FAILOVER_WAIT_NANOS = 30_000_000_000L;

    private InFlightWork mutating() {
        InFlightWork q = node.inFlight();
        q.enter();
        return q;
    }

    /** Ends a mutation that threw {@code e}: a refused argument touched nothing, anything else may have. */
    private static RuntimeException failed(InFlightWork q, RuntimeException e) {
        if (e instanceof IllegalArgumentException) {
            q.exit();
        } else {
            q.failed(e);
        }
        return e;
    }

    private void checkValue(byte[] value) {
        if (value == null || value.length != valueBytes) {
            throw new IllegalArgumentException("value must be " + valueBytes + " bytes, got "
                    + (value == null ? "null" : value.length + " bytes"));
        }
    }

    private void longKeys() {
        if (keyBytes != Long.BYTES) {
            throw new IllegalArgumentException("long keys need an index of 8-byte keys; this one has " + keyBytes + "-byte keys");
        }
    }

    private void longValues() {
        longKeys();
        if (valueBytes != Long.BYTES) {
            throw new IllegalArgumentException("long values need an index of 8-byte values; this one has " + valueBytes
                    + "-byte values");
        }
    }

    @Override
    public int keyBytes() {
        return keyBytes;
    }

    @Override
    public int valueBytes() {
        return valueBytes;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        fixedValues();
        open();
        checkValue(value);
        for (int attempt = 0; ; attempt++) {
            long epoch = begin();
            InFlightWork q = mutating();
            try {
                tree.put(key, new UnsafeBuffer(value), 0);
            } catch (RuntimeException e) {
                failed(q, e);
                if (retriesAfterFailover(e, epoch, attempt)) {
                    continue;
                }
                throw e;
            } finally {
                end();
            }
            q.exit();
            return;
        }
    }

    @Override
    public byte[] get(byte[] key) {
        fixedValues();
        open();
        UnsafeBuffer out = valueScratch.get();
        boolean found;
        for (int attempt = 0; ; attempt++) {
            long epoch = begin();
            try {
                found = tree.get(key, out, 0);
                break;
            } catch (RuntimeException e) {
                if (!retriesAfterFailover(e, epoch, attempt)) {
                    throw e;
                }
            } finally {
                end();
            }
        }
        if (!found) {
            return null;
        }
        byte[] value = new byte[valueBytes];
        out.getBytes(0, value);
        return value;
    }

    @Override
    public boolean delete(byte[] key) {
        fixedValues();
        open();
        boolean deleted;
        for (int attempt = 0; ; attempt++) {
            long epoch = begin();
            InFlightWork q = mutating();
            try {
                deleted = tree.delete(key);
            } catch (RuntimeException e) {
                failed(q, e);
                if (retriesAfterFailover(e, epoch, attempt)) {
                    continue;
                }
                throw e;
            } finally {
                end();
            }
            q.exit();
            break;
        }
        return deleted;
    }

    @Override
    public List<Entry> scan(byte[] from, int limit) {
        List<Entry> out = new ArrayList<>();
        scan(from, null, limit, out);
        return out;
    }

    @Override
    public List<Entry> range(byte[] from, byte[] toExclusive) {
        if (toExclusive == null) {
            throw new IllegalArgumentException("range end is null");
        }
        List<Entry> out = new ArrayList<>();
        scan(from, toExclusive, Integer.MAX_VALUE, out);
        return out;
    }

    private void scan(byte[] from, byte[] to, int limit, List<Entry> out) {
        open();
        tree.scan(from, to, limit, (buffer, keyOffset, valueOffset) -> {
            byte[] k = new byte[keyBytes];
            byte[] v = new byte[valueBytes];
            buffer.getBytes(keyOffset, k);
            buffer.getBytes(valueOffset, v);
            out.add(new Entry(k, v));
            return true;
        });
    }

    @Override
    public int scan(byte[] from, int limit, EntryVisitor visitor) {
        open();
        byte[] k = new byte[keyBytes];
        byte[] v = new byte[valueBytes];
        return tree.scan(from, null, limit, (buffer, keyOffset, valueOffset) -> {
            buffer.getBytes(keyOffset, k);
            buffer.getBytes(valueOffset, v);
            return visitor.visit(k, v);
        });
    }

    /** Runs a mutation counted in the node's {@link InFlightWork}, as put and delete are. */
    private <T> T mutation(Supplier<T> operation) {
        open();
        InFlightWork q = mutating();
        T result;
        try {
            result = operation.get();
        } catch (RuntimeException e) {
            throw failed(q, e);
        }
        q.exit();
        return result;
    }

    @Override
    public byte[] putIfAbsent(byte[] key, byte[] value) {
        fixedValues();
        return mutation(() -> updates.putIfAbsent(key, value));
    }

    @Override
    public byte[] getAndPut(byte[] key, byte[] value) {
        fixedValues();
        return mutation(() -> updates.getAndPut(key, value));
    }

    @Override
    public byte[] getAndDelete(byte[] key) {
        fixedValues();
        return mutation(() -> updates.getAndDelete(key));
    }

    @Override
    public byte[] replace(byte[] key, byte[] value) {
        fixedValues();
        return mutation(() -> updates.replace(key, value));
    }

    @Override
    public boolean replace(byte[] key, byte[] expected, byte[] value) {
        fixedValues();
        return mutation(() -> updates.replace(key, expected, value));
    }

    @Override
    public boolean delete(byte[] key, byte[] expected) {
        fixedValues();
        return mutation(() -> updates.delete(key, expected));
    }

    @Override
    public byte[] compute(byte[] key, UnaryOperator<byte[]> function) {
        fixedValues();
        return mutation(() -> updates.compute(key, function));
    }

    @Override
    public List<byte[]> getAll(List<byte[]> keys) {
        fixedValues();
        open();
        return java.util.Arrays.asList(batches.getAll(keys.toArray(new byte[0][])));
    }

    @Override
    public void putAll(List<Entry> entries) {
        fixedValues();
        byte[][] keys = new byte[entries.size()][];
        byte[][] values = new byte[entries.size()][];
        for (int i = 0; i < keys.length; i++) {
            Entry e = entries.get(i);
            if (e == null) {
                throw new IllegalArgumentException("putAll entry " + i + " is null");
            }
            keys[i] = e.key();
            values[i] = e.value();
        }
        mutation(() -> {
            batches.putAll(keys, values);
            return null;
        });
    }

    @Override
    public Entry first() {
        open();
        byte[] k = new byte[keyBytes];
        byte[] v = new byte[valueBytes];
        return navigation.first(k, v) ? new Entry(k, v) : null;
    }

    @Override
    public Entry last() {
        open();
        byte[] k = new byte[keyBytes];
        byte[] v = new byte[valueBytes];
        return navigation.last(k, v) ? new Entry(k, v) : null;
    }

    @Override
    public Entry ceiling(byte[] key) {
        return upward(key, true);
    }

    @Override
    public Entry higher(byte[] key) {
        return upward(key, false);
    }

    @Override
    public Entry floor(byte[] key) {
        return downward(key, true);
    }

    @Override
    public Entry lower(byte[] key) {
        return downward(key, false);
    }

    private Entry upward(byte[] key, boolean inclusive) {
        open();
        byte[] k = new byte[keyBytes];
        byte[] v = new byte[valueBytes];
        return navigation.ceiling(key, inclusive, k, v) ? new Entry(k, v) : null;
    }

    private Entry downward(byte[] key, boolean inclusive) {
        open();
        byte[] k = new byte[keyBytes];
        byte[] v = new byte[valueBytes];
        return navigation.floor(key, inclusive, k, v) ? new Entry(k, v) : null;
    }

    @Override
    public List<Entry> reverseScan(byte[] from, int limit) {
        open();
        List<Entry> out = new ArrayList<>();
        navigation.reverseScan(from, true, null, limit, (buffer, keyOffset, valueOffset) -> {
            byte[] k = new byte[keyBytes];
            byte[] v = new byte[valueBytes];
            buffer.getBytes(keyOffset, k);
            buffer.getBytes(valueOffset, v);
            out.add(new Entry(k, v));
            return true;
        });
        return out;
    }

    @Override
    public long approximateSize() {
        open();
        return navigation.approximateSize();
    }

    @Override
    public void put(long key, long value) {
        fixedValues();
        open();
        longValues();
        UnsafeBuffer v = valueScratch.get();
        v.putLong(0, value, ByteOrder.BIG_ENDIAN);
        for (int attempt = 0; ; attempt++) {
            long epoch = begin();
            InFlightWork q = mutating();
            try {
                tree.put(key, v, 0);
            } catch (RuntimeException e) {
                failed(q, e);
                if (retriesAfterFailover(e, epoch, attempt)) {
                    continue;
                }
                throw e;
            } finally {
                end();
            }
            q.exit();
            return;
        }
    }

    @Override
    public OptionalLong get(long key) {
        fixedValues();
        open();
        longValues();
        UnsafeBuffer out = valueScratch.get();
        for (int attempt = 0; ; attempt++) {
            long epoch = begin();
            try {
                return tree.get(key, out, 0) ? OptionalLong.of(out.getLong(0, ByteOrder.BIG_ENDIAN)) : OptionalLong.empty();
            } catch (RuntimeException e) {
                if (!retriesAfterFailover(e, epoch, attempt)) {
                    throw e;
                }
            } finally {
                end();
            }
        }
    }

    @Override
    public boolean delete(long key) {
        fixedValues();
        open();
        longKeys();
        boolean deleted;
        for (int attempt = 0; ; attempt++) {
            long epoch = begin();
            InFlightWork q = mutating();
            try {
                deleted = tree.delete(key);
            } catch (RuntimeException e) {
                failed(q, e);
                if (retriesAfterFailover(e, epoch, attempt)) {
                    continue;
                }
                throw e;
            } finally {
                end();
            }
            q.exit();
            break;
        }
        return deleted;
    }

    @Override
    public List<LongEntry> scan(long from, int limit) {
        return longScan(from, null, limit);
    }

    @Override
    public int scan(long from, int limit, LongEntryVisitor visitor) {
        open();
        longValues();
        return tree.scan(from, limit, (buffer, keyOffset, valueOffset) ->
                visitor.visit(KeyOrder.getLongKey(buffer, keyOffset), buffer.getLong(valueOffset, ByteOrder.BIG_ENDIAN)));
    }

    @Override
    public List<LongEntry> range(long from, long toExclusive) {
        if (toExclusive <= from) {
            return List.of();
        }
        return longScan(from, KeyOrder.longKeyBytes(toExclusive), Integer.MAX_VALUE);
    }

    private List<LongEntry> longScan(long from, byte[] to, int limit) {
        open();
        longValues();
        List<LongEntry> out = new ArrayList<>();
        tree.scan(KeyOrder.longKeyBytes(from), to, limit, (buffer, keyOffset, valueOffset) -> {
            out.add(new LongEntry(KeyOrder.getLongKey(buffer, keyOffset), buffer.getLong(valueOffset, ByteOrder.BIG_ENDIAN)));
            return true;
        });
        return out;
    }

    @Override
    public VerbCounts memoryNodeTraffic() {
        return node.verbs().totalCounts();
    }

    @Override
    public CacheStats cacheStats() {
        IndexCache c = node.cache();
        return new CacheStats(c.hits(), c.misses(), c.bytes(), c.capacityBytes());
    }

    @Override
    public TreeReport check() {
        open();
        return node.check();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        onClose.run();
    }
}
