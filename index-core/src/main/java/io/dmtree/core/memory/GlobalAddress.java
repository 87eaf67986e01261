package io.dmtree.core.memory;

/**
 * A location in disaggregated memory: a memory-node id and a byte offset in that node's region,
 * packed into one {@code long} so addresses travel through verbs, node layouts and lock words
 * without allocation.
 *
 * <pre>
 *  63            48 47                                              0
 * +----------------+-------------------------------------------------+
 * |  memory node   |                  byte offset                    |
 * +----------------+-------------------------------------------------+
 * </pre>
 *
 * <p>{@link #NULL} (all zeros) is never a valid target of a tree pointer: offset 0 of every region
 * holds the region header.
 */
public final class GlobalAddress {
    public static final long NULL = 0L;
    public static final int MN_BITS = 16;
    public static final int OFFSET_BITS = 48;
    public static final int MAX_MEMORY_NODES = 1 << MN_BITS;
    public static final long MAX_OFFSET = (1L << OFFSET_BITS) - 1;

    private GlobalAddress() {
    }

    public static long of(int memoryNode, long offset) {
        if (memoryNode < 0 || memoryNode >= MAX_MEMORY_NODES) {
            throw new IllegalArgumentException("memory node id out of range [0, " + MAX_MEMORY_NODES + "): " + memoryNode);
        }
        if (offset < 0 || offset > MAX_OFFSET) {
            throw new IllegalArgumentException("offset out of range [0, 2^48): " + offset);
        }
        return ((long) memoryNode << OFFSET_BITS) | offset;
    }

    public static int memoryNode(long address) {
        return (int) (address >>> OFFSET_BITS);
    }

    public static long offset(long address) {
        return address & MAX_OFFSET;
    }

    /** The address {@code delta} bytes further on the same memory node. */
    public static long plus(long address, long delta) {
        return of(memoryNode(address), offset(address) + delta);
    }

    public static String toString(long address) {
        return address == NULL ? "null" : "mn" + memoryNode(address) + ":0x" + Long.toHexString(offset(address));
    }
}
