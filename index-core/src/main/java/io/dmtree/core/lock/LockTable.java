package io.dmtree.core.lock;

import io.dmtree.core.memory.GlobalAddress;

/**
 * Maps a tree node to the lock that guards it: a slot in the lock table of the memory node that
 * holds the node, chosen by hashing the node's offset. Distinct nodes may share a lock; callers
 * that never hold two locks at once cannot deadlock on such sharing.
 */
public final class LockTable {
    private final long tableOffset;
    private final long slots;
    private final int stride;

    /**
     * @param tableOffset offset of the lock table in every memory node's region
     * @param tableBytes  bytes of that table
     * @param lockBytes   bytes one lock of the chosen design needs
     */
    public LockTable(long tableOffset, long tableBytes, int lockBytes) {
        if (lockBytes <= 0 || lockBytes % 8 != 0) {
            throw new IllegalArgumentException("lock bytes must be a positive multiple of 8: " + lockBytes);
        }
        this.tableOffset = tableOffset;
        this.stride = strideFor(lockBytes);
        this.slots = tableBytes / stride;
        if (slots < 1) {
            throw new IllegalArgumentException("lock table of " + tableBytes + " bytes cannot hold a lock of "
                    + lockBytes + " bytes");
        }
    }

    /** Locks are laid out on 8-byte multiples, rounded to a 64-byte line when they are small. */
    public static int strideFor(int lockBytes) {
        return lockBytes <= 64 ? 64 : (int) ((lockBytes + 63L) / 64 * 64);
    }

    public long slots() {
        return slots;
    }

    public int stride() {
        return stride;
    }

    /** The lock slot {@code slot} on memory node {@code mn}. */
    public long lockAt(int mn, long slot) {
        if (slot < 0 || slot >= slots) {
            throw new IllegalArgumentException("lock slot out of range: " + slot);
        }
        return GlobalAddress.of(mn, tableOffset + slot * stride);
    }

    /** The lock guarding the node at {@code nodeAddress}. */
    public long lockFor(long nodeAddress) {
        long h = GlobalAddress.offset(nodeAddress) * 0x9E3779B97F4A7C15L;
        long slot = Long.remainderUnsigned(h ^ (h >>> 29), slots);
        return GlobalAddress.of(GlobalAddress.memoryNode(nodeAddress), tableOffset + slot * stride);
    }
}
