package io.dmtree.cn;

import io.dmtree.core.memory.VerbCounts;
import io.dmtree.core.tree.BLinkTree;
import io.dmtree.core.tree.IndexCache;
import io.dmtree.core.tree.KeyOrder;
import io.dmtree.core.tree.TreeReport;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** {@link DmIndex} over one compute node's tree. */
final class CnIndex implements DmIndex {
    private final ComputeNode node;
    private final BLinkTree tree;
    private final int keyBytes;
    private final int valueBytes;
    private final ThreadLocal<UnsafeBuffer> valueScratch;
    private volatile boolean closed;
    private volatile Runnable onClose = () -> { };

    CnIndex(ComputeNode node) {
        this.node = node;
        this.tree = node.tree();
        this.keyBytes = node.treeConfig().keyBytes();
        this.valueBytes = node.treeConfig().valueBytes();
        this.valueScratch = ThreadLocal.withInitial(() -> new UnsafeBuffer(new byte[valueBytes]));
    }

    /** What closing this view also does (the single-node embedded index stops its cluster). */
    void onClose(Runnable action) {
        this.onClose = action;
    }

    void markClosed() {
        closed = true;
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
        open();
        checkValue(value);
        InFlightWork q = mutating();
        try {
            tree.put(key, new UnsafeBuffer(value), 0);
        } catch (RuntimeException e) {
            throw failed(q, e);
        }
        q.exit();
    }

    @Override
    public byte[] get(byte[] key) {
        open();
        UnsafeBuffer out = valueScratch.get();
        if (!tree.get(key, out, 0)) {
            return null;
        }
        byte[] value = new byte[valueBytes];
        out.getBytes(0, value);
        return value;
    }

    @Override
    public boolean delete(byte[] key) {
        open();
        InFlightWork q = mutating();
        boolean deleted;
        try {
            deleted = tree.delete(key);
        } catch (RuntimeException e) {
            throw failed(q, e);
        }
        q.exit();
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

    @Override
    public void put(long key, long value) {
        open();
        longValues();
        UnsafeBuffer v = valueScratch.get();
        v.putLong(0, value, ByteOrder.BIG_ENDIAN);
        InFlightWork q = mutating();
        try {
            tree.put(key, v, 0);
        } catch (RuntimeException e) {
            throw failed(q, e);
        }
        q.exit();
    }

    @Override
    public OptionalLong get(long key) {
        open();
        longValues();
        UnsafeBuffer out = valueScratch.get();
        return tree.get(key, out, 0) ? OptionalLong.of(out.getLong(0, ByteOrder.BIG_ENDIAN)) : OptionalLong.empty();
    }

    @Override
    public boolean delete(long key) {
        open();
        longKeys();
        InFlightWork q = mutating();
        boolean deleted;
        try {
            deleted = tree.delete(key);
        } catch (RuntimeException e) {
            throw failed(q, e);
        }
        q.exit();
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
