package io.dmtree.core.tree;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.Verbs;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The index's home on memory node 0 ({@link RegionLayout}'s superblock): its shape, its lock
 * design and the root pointer. The first compute node to open the index creates it (claiming the
 * state word by CAS, writing an empty root leaf, then the fields, then READY); every other one
 * waits for READY and checks that its configuration matches what is stored.
 */
public final class IndexSuperblock {
    public static final long ROOT_POINTER = GlobalAddress.of(0, RegionLayout.ROOT_POINTER_OFFSET);
    public static final long STATE = GlobalAddress.of(0, RegionLayout.INDEX_STATE_OFFSET);
    private static final long BASE = GlobalAddress.of(0, RegionLayout.SUPERBLOCK_OFFSET);
    private static final long CREATE_TIMEOUT_NANOS = 30_000_000_000L;
    /**
     * The value-width word holds the slot width in its low 24 bits and the {@link ValueFormat}'s
     * ordinal above: an index of fixed-width values (ordinal 0) reads as it always did. The
     * key-width word holds the {@link KeyFormat}'s ordinal the same way.
     */
    static final int VALUE_FORMAT_SHIFT = 24;
    private static final int VALUE_WIDTH_MASK = (1 << VALUE_FORMAT_SHIFT) - 1;

    private IndexSuperblock() {
    }

    /** Creates the index or checks the existing one against {@code config}; returns the root address. */
    public static long createOrOpen(Verbs verbs, NodeAllocator allocator, TreeConfig config, String lockDesign,
                                    int lockStride) {
        byte[] name = lockDesign.getBytes(StandardCharsets.US_ASCII);
        if (name.length > RegionLayout.LOCK_DESIGN_BYTES) {
            throw new IllegalArgumentException("lock design name longer than " + RegionLayout.LOCK_DESIGN_BYTES + " bytes");
        }
        if (verbs.cas(STATE, RegionLayout.INDEX_ABSENT, RegionLayout.INDEX_CREATING) == RegionLayout.INDEX_ABSENT) {
            create(verbs, allocator, config, name, lockStride);
        }
        awaitReady(verbs);
        return check(verbs, config, lockDesign, lockStride);
    }

    private static void create(Verbs verbs, NodeAllocator allocator, TreeConfig config, byte[] name, int lockStride) {
        NodeLayout layout = config.layout();
        NodeImage root = new NodeImage(layout);
        UnsafeBuffer zeros = new UnsafeBuffer(new byte[layout.keyBytes()]);
        root.init(0, zeros, 0, null, 0, GlobalAddress.NULL, 0);
        root.seal();
        long rootAddress = allocator.allocate();
        verbs.write(rootAddress, root.buffer(), 0, layout.nodeBytes());

        UnsafeBuffer sb = new UnsafeBuffer(new byte[RegionLayout.SUPERBLOCK_BYTES]);
        sb.putLong(0, rootAddress);
        sb.putInt(RegionLayout.KEY_WIDTH_OFFSET - RegionLayout.SUPERBLOCK_OFFSET,
                config.keyBytes() | (config.keyFormat().ordinal() << VALUE_FORMAT_SHIFT));
        sb.putInt(RegionLayout.VALUE_WIDTH_OFFSET - RegionLayout.SUPERBLOCK_OFFSET,
                config.valueBytes() | (config.valueFormat().ordinal() << VALUE_FORMAT_SHIFT));
        sb.putInt(RegionLayout.NODE_SIZE_OFFSET - RegionLayout.SUPERBLOCK_OFFSET, config.nodeBytes());
        sb.putInt(RegionLayout.LOCK_STRIDE_OFFSET - RegionLayout.SUPERBLOCK_OFFSET, lockStride);
        sb.putLong(RegionLayout.INDEX_STATE_OFFSET - RegionLayout.SUPERBLOCK_OFFSET, RegionLayout.INDEX_CREATING);
        sb.putBytes(RegionLayout.LOCK_DESIGN_OFFSET - RegionLayout.SUPERBLOCK_OFFSET, name);
        verbs.write(BASE, sb, 0, RegionLayout.SUPERBLOCK_BYTES);
        verbs.cas(STATE, RegionLayout.INDEX_CREATING, RegionLayout.INDEX_READY);
    }

    private static void awaitReady(Verbs verbs) {
        long deadline = System.nanoTime() + CREATE_TIMEOUT_NANOS;
        while (true) {
            long state = verbs.faa(STATE, 0);
            if (state == RegionLayout.INDEX_READY) {
                return;
            }
            if (state != RegionLayout.INDEX_CREATING) {
                throw new IllegalStateException("memory node 0 holds no index and an unknown index state " + state);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the index on memory node 0 stayed half-created for 30 s: its creator died;"
                        + " restart the memory nodes");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** The shape and lock design of an index as stored in its superblock. */
    public record StoredIndex(int keyBytes, int valueBytes, int nodeBytes, String lockDesign, ValueFormat valueFormat,
                              KeyFormat keyFormat) {
    }

    private static KeyFormat keyFormat(int keyWord) {
        int ordinal = keyWord >>> VALUE_FORMAT_SHIFT;
        if (ordinal >= KeyFormat.values().length) {
            throw new IllegalStateException("the index on memory node 0 names unknown key format " + ordinal);
        }
        return KeyFormat.values()[ordinal];
    }

    /** The value format of the index on memory node 0, FIXED when none was created yet. */
    public static ValueFormat valueFormat(Verbs verbs) {
        if (verbs.faa(STATE, 0) != RegionLayout.INDEX_READY) {
            return ValueFormat.FIXED;
        }
        return format(field(readSuperblock(verbs), RegionLayout.VALUE_WIDTH_OFFSET));
    }

    private static ValueFormat format(int valueWord) {
        int ordinal = valueWord >>> VALUE_FORMAT_SHIFT;
        if (ordinal >= ValueFormat.values().length) {
            throw new IllegalStateException("the index on memory node 0 names unknown value format " + ordinal);
        }
        return ValueFormat.values()[ordinal];
    }

    /**
     * The index memory node 0 holds, or empty when none was created yet; waits out a creation in
     * progress (bounded, as {@link #createOrOpen} does).
     */
    public static Optional<StoredIndex> stored(Verbs verbs) {
        if (verbs.faa(STATE, 0) == RegionLayout.INDEX_ABSENT) {
            return Optional.empty();
        }
        awaitReady(verbs);
        UnsafeBuffer sb = readSuperblock(verbs);
        int valueWord = field(sb, RegionLayout.VALUE_WIDTH_OFFSET);
        int keyWord = field(sb, RegionLayout.KEY_WIDTH_OFFSET);
        return Optional.of(new StoredIndex(keyWord & VALUE_WIDTH_MASK, valueWord & VALUE_WIDTH_MASK,
                field(sb, RegionLayout.NODE_SIZE_OFFSET), storedLock(sb), format(valueWord), keyFormat(keyWord)));
    }

    private static UnsafeBuffer readSuperblock(Verbs verbs) {
        UnsafeBuffer sb = new UnsafeBuffer(new byte[RegionLayout.SUPERBLOCK_BYTES]);
        verbs.read(BASE, sb, 0, RegionLayout.SUPERBLOCK_BYTES);
        return sb;
    }

    private static int field(UnsafeBuffer sb, int regionOffset) {
        return sb.getInt(regionOffset - RegionLayout.SUPERBLOCK_OFFSET);
    }

    private static String storedLock(UnsafeBuffer sb) {
        byte[] name = new byte[RegionLayout.LOCK_DESIGN_BYTES];
        sb.getBytes(RegionLayout.LOCK_DESIGN_OFFSET - RegionLayout.SUPERBLOCK_OFFSET, name);
        return new String(name, StandardCharsets.US_ASCII).replace("\0", "");
    }

    private static long check(Verbs verbs, TreeConfig config, String lockDesign, int lockStride) {
        UnsafeBuffer sb = readSuperblock(verbs);
        int keyWord = field(sb, RegionLayout.KEY_WIDTH_OFFSET);
        int keyBytes = keyWord & VALUE_WIDTH_MASK;
        KeyFormat keys = keyFormat(keyWord);
        int valueWord = field(sb, RegionLayout.VALUE_WIDTH_OFFSET);
        int valueBytes = valueWord & VALUE_WIDTH_MASK;
        ValueFormat format = format(valueWord);
        int nodeBytes = field(sb, RegionLayout.NODE_SIZE_OFFSET);
        int stride = field(sb, RegionLayout.LOCK_STRIDE_OFFSET);
        String storedLock = storedLock(sb);
        if (keyBytes != config.keyBytes() || valueBytes != config.valueBytes() || nodeBytes != config.nodeBytes()
                || stride != lockStride || !storedLock.equals(lockDesign) || format != config.valueFormat()
                || keys != config.keyFormat()) {
            throw new IllegalArgumentException("the index on memory node 0 has " + keyBytes + "-byte " + (keys == KeyFormat.FIXED ? "keys"
                    : "key slots (variable-length keys)") + ", " + valueBytes
                    + "-byte " + name(format) + ", " + nodeBytes + "-byte nodes and lock '" + storedLock
                    + "'; this compute node asks for " + config.keyBytes()
                    + (config.variableKeys() ? " (variable-length keys)" : "") + ", " + config.valueBytes()
                    + (config.variableValues() ? " (variable-length values)" : "") + ", " + config.nodeBytes() + " and '" + lockDesign + "'");
        }
        return sb.getLong(0);
    }

    private static String name(ValueFormat f) {
        return f == ValueFormat.FIXED ? "values" : "value slots (variable-length values)";
    }
}
