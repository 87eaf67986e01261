package io.dmtree.core.tree;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

import static io.dmtree.core.tree.NodeLayout.*;

/**
 * A compute node's copy of one tree node, laid out as {@link NodeLayout} describes, with the
 * accessors the tree needs. One image belongs to one thread at a time; it is reused across
 * operations and allocates nothing after construction.
 */
public final class NodeImage {
    private final NodeLayout layout;
    private final ByteBuffer direct;
    private final UnsafeBuffer buffer;
    private final CRC32C crc = new CRC32C();
    private final int keyBytes;

    /** An image in fresh off-heap memory. */
    public NodeImage(NodeLayout layout) {
        this(layout, ByteBuffer.allocateDirect(layout.nodeBytes()));
    }

    /** An image over {@code storage}, which must hold exactly one node. */
    public NodeImage(NodeLayout layout, ByteBuffer storage) {
        if (storage.capacity() != layout.nodeBytes()) {
            throw new IllegalArgumentException("node image needs " + layout.nodeBytes() + " bytes, got " + storage.capacity());
        }
        this.layout = layout;
        this.direct = storage.order(ByteOrder.LITTLE_ENDIAN);
        this.buffer = new UnsafeBuffer(storage);
        this.keyBytes = layout.keyBytes();
    }

    public NodeLayout layout() {
        return layout;
    }

    /** The node's bytes; READ into it, WRITE from it. */
    public UnsafeBuffer buffer() {
        return buffer;
    }

    public void copyFrom(NodeImage other) {
        buffer.putBytes(0, other.buffer, 0, layout.nodeBytes());
    }

    public void copyTo(byte[] dst) {
        buffer.getBytes(0, dst, 0, layout.nodeBytes());
    }

    public void copyFrom(byte[] src) {
        buffer.putBytes(0, src, 0, layout.nodeBytes());
    }

    // ---- checksum ----

    private int computeChecksum() {
        crc.reset();
        direct.limit(layout.nodeBytes()).position(CHECKSUM_COVERS_FROM);
        crc.update(direct);
        return (int) crc.getValue();
    }

    /** True when the image is a consistent state of the node, not a torn read. */
    public boolean checksumValid() {
        return buffer.getInt(CHECKSUM_OFFSET) == computeChecksum();
    }

    /** Counts one more write-back and recomputes the checksum: call after every change, before writing. */
    public void seal() {
        buffer.putInt(WRITES_OFFSET, buffer.getInt(WRITES_OFFSET) + 1);
        buffer.putInt(CHECKSUM_OFFSET, computeChecksum());
    }

    // ---- header ----

    public int level() {
        return buffer.getByte(LEVEL_OFFSET) & 0xFF;
    }

    public boolean isLeaf() {
        return (buffer.getByte(FLAGS_OFFSET) & FLAG_LEAF) != 0;
    }

    public boolean highInfinite() {
        return (buffer.getByte(FLAGS_OFFSET) & FLAG_HIGH_INFINITE) != 0;
    }

    /** True for a node unlinked by a merge or a root shrink ({@link NodeLayout#FLAG_REMOVED}). */
    public boolean isRemoved() {
        return (buffer.getByte(FLAGS_OFFSET) & FLAG_REMOVED) != 0;
    }

    /** For a removed node: the node its range went to. */
    public long forward() {
        return buffer.getLong(FORWARD_OFFSET);
    }

    /** The reuse era the node's block was handed out at (0: its first use). */
    public long bornEra() {
        return buffer.getLong(NodeLayout.BORN_ERA_OFFSET);
    }

    public void setBornEra(long era) {
        buffer.putLong(NodeLayout.BORN_ERA_OFFSET, era);
    }

    /** For a removed node: the member that removed it. */
    public int removedBy() {
        return buffer.getInt(REMOVED_BY_OFFSET);
    }

    /** Marks the image removed, its range gone to {@code forward}, by member {@code member}. */
    public void markRemoved(long forward, int member) {
        buffer.putByte(FLAGS_OFFSET, (byte) (buffer.getByte(FLAGS_OFFSET) | FLAG_REMOVED));
        buffer.putLong(FORWARD_OFFSET, forward);
        buffer.putInt(REMOVED_BY_OFFSET, member);
    }

    public int count() {
        return buffer.getShort(COUNT_OFFSET) & 0xFFFF;
    }

    public void setCount(int n) {
        buffer.putShort(COUNT_OFFSET, (short) n);
    }

    public long sibling() {
        return buffer.getLong(SIBLING_OFFSET);
    }

    public void setSibling(long address) {
        buffer.putLong(SIBLING_OFFSET, address);
    }

    public long leftmost() {
        return buffer.getLong(LEFTMOST_OFFSET);
    }

    public void setLeftmost(long address) {
        buffer.putLong(LEFTMOST_OFFSET, address);
    }

    public int writes() {
        return buffer.getInt(WRITES_OFFSET);
    }

    /**
     * Clears the image to an empty node of {@code level} covering [low, high), or [low, +inf) when
     * {@code high} is null. The write counter carries on from {@code writes}.
     */
    public void init(int level, DirectBuffer low, int lowOffset, DirectBuffer high, int highOffset, long sibling, int writes) {
        buffer.setMemory(0, layout.nodeBytes(), (byte) 0);
        buffer.putInt(WRITES_OFFSET, writes);
        buffer.putByte(LEVEL_OFFSET, (byte) level);
        buffer.putByte(FLAGS_OFFSET, (byte) ((level == 0 ? FLAG_LEAF : 0) | (high == null ? FLAG_HIGH_INFINITE : 0)));
        buffer.putBytes(LOW_FENCE_OFFSET, low, lowOffset, keyBytes);
        if (high != null) {
            buffer.putBytes(layout.highFenceOffset(), high, highOffset, keyBytes);
        }
        buffer.putLong(SIBLING_OFFSET, sibling);
    }

    /** Lowers the high fence to {@code high} (a split). */
    public void setHighFence(DirectBuffer high, int highOffset) {
        buffer.putBytes(layout.highFenceOffset(), high, highOffset, keyBytes);
        buffer.putByte(FLAGS_OFFSET, (byte) (buffer.getByte(FLAGS_OFFSET) & ~FLAG_HIGH_INFINITE));
    }

    /** Takes {@code other}'s high fence (and its +inf flag): a merge absorbing {@code other}. */
    public void setHighFenceOf(NodeImage other) {
        buffer.putBytes(layout.highFenceOffset(), other.buffer, other.layout.highFenceOffset(), keyBytes);
        int infinite = other.highInfinite() ? FLAG_HIGH_INFINITE : 0;
        buffer.putByte(FLAGS_OFFSET, (byte) ((buffer.getByte(FLAGS_OFFSET) & ~FLAG_HIGH_INFINITE) | infinite));
    }

    // ---- fences ----

    public int lowFenceOffset() {
        return LOW_FENCE_OFFSET;
    }

    public int highFenceOffset() {
        return layout.highFenceOffset();
    }

    /** key &lt; low fence. */
    public boolean belowLow(DirectBuffer key, int offset) {
        return KeyOrder.compare(key, offset, buffer, LOW_FENCE_OFFSET, keyBytes) < 0;
    }

    /** key &ge; high fence: the key lives further right, follow the sibling. */
    public boolean atOrAboveHigh(DirectBuffer key, int offset) {
        return !highInfinite() && KeyOrder.compare(key, offset, buffer, layout.highFenceOffset(), keyBytes) >= 0;
    }

    // ---- leaf entries (unsorted) ----

    public boolean leafUsed(int slot) {
        return buffer.getByte(layout.leafEntry(slot)) == LEAF_USED;
    }

    public int leafKeyOffset(int slot) {
        return layout.leafKey(slot);
    }

    public int leafValueOffset(int slot) {
        return layout.leafValue(slot);
    }

    /** The slot holding {@code key}, or -1. */
    public int findLeafKey(DirectBuffer key, int offset) {
        int capacity = layout.leafCapacity();
        for (int slot = 0; slot < capacity; slot++) {
            if (leafUsed(slot) && KeyOrder.equal(key, offset, buffer, layout.leafKey(slot), keyBytes)) {
                return slot;
            }
        }
        return -1;
    }

    /** Fast path of {@link #findLeafKey} for 8-byte keys in stored (big-endian) form. */
    public int findLeafLongKey(long storedBigEndian) {
        int capacity = layout.leafCapacity();
        for (int slot = 0; slot < capacity; slot++) {
            int e = layout.leafEntry(slot);
            if (buffer.getByte(e) == LEAF_USED && buffer.getLong(e + 1, ByteOrder.BIG_ENDIAN) == storedBigEndian) {
                return slot;
            }
        }
        return -1;
    }

    /** A free slot, or -1 when the leaf is full. */
    public int freeLeafSlot() {
        int capacity = layout.leafCapacity();
        for (int slot = 0; slot < capacity; slot++) {
            if (!leafUsed(slot)) {
                return slot;
            }
        }
        return -1;
    }

    public void putLeafEntry(int slot, DirectBuffer key, int keyOffset, DirectBuffer value, int valueOffset) {
        int e = layout.leafEntry(slot);
        buffer.putByte(e, (byte) LEAF_USED);
        buffer.putBytes(e + 1, key, keyOffset, keyBytes);
        buffer.putBytes(e + 1 + keyBytes, value, valueOffset, layout.valueBytes());
    }

    public void clearLeafEntry(int slot) {
        buffer.setMemory(layout.leafEntry(slot), layout.leafEntryBytes(), (byte) 0);
    }

    // ---- internal entries (sorted) ----

    public int internalKeyOffset(int i) {
        return layout.internalKey(i);
    }

    public long child(int i) {
        return buffer.getLong(layout.internalChild(i));
    }

    /**
     * Index of the first separator greater than {@code key}: the child to follow is
     * {@code leftmost} when this is 0, else child {@code result-1}.
     */
    public int upperBound(DirectBuffer key, int offset) {
        int lo = 0;
        int hi = count();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (KeyOrder.compare(buffer, layout.internalKey(mid), key, offset, keyBytes) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The child whose range holds {@code key} (the image must cover the key). */
    public long childFor(DirectBuffer key, int offset) {
        int i = upperBound(key, offset);
        return i == 0 ? leftmost() : child(i - 1);
    }

    /** Inserts separator {@code key -> child} at sorted position {@code i}; the node must have room. */
    public void insertSeparator(int i, DirectBuffer key, int keyOffset, long child) {
        int n = count();
        int entryBytes = layout.internalEntryBytes();
        if (i < n) {
            int from = layout.internalKey(i);
            byte[] tail = new byte[(n - i) * entryBytes];
            buffer.getBytes(from, tail);
            buffer.putBytes(from + entryBytes, tail);
        }
        buffer.putBytes(layout.internalKey(i), key, keyOffset, keyBytes);
        buffer.putLong(layout.internalChild(i), child);
        setCount(n + 1);
    }

    /** Removes separator {@code i} and its child; later entries move down one. */
    public void removeSeparator(int i) {
        int n = count();
        int entryBytes = layout.internalEntryBytes();
        if (i < n - 1) {
            byte[] tail = new byte[(n - 1 - i) * entryBytes];
            buffer.getBytes(layout.internalKey(i + 1), tail);
            buffer.putBytes(layout.internalKey(i), tail);
        }
        buffer.setMemory(layout.internalKey(n - 1), entryBytes, (byte) 0);
        setCount(n - 1);
    }

    public void putSeparator(int i, DirectBuffer key, int keyOffset, long child) {
        buffer.putBytes(layout.internalKey(i), key, keyOffset, keyBytes);
        buffer.putLong(layout.internalChild(i), child);
    }
}
