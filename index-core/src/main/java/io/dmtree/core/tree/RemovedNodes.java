package io.dmtree.core.tree;

import java.util.Arrays;

/**
 * The nodes one compute node's tree removed (merged away or an old root), in the order it removed
 * them: unlinked, flagged {@link NodeLayout#FLAG_REMOVED}, and not reused. They are what a
 * reclamation of node memory may free once no reader can still hold them. A lapsed member's list
 * dies with it; its removals are still found by their header ({@code removed by}) and by being
 * unreachable from the tree. Thread-safe; grows by doubling (a removal is rare, never on a read
 * path).
 */
public final class RemovedNodes {
    private long[] addresses = new long[16];
    private int count;

    synchronized void add(long address) {
        if (count == addresses.length) {
            addresses = Arrays.copyOf(addresses, count * 2);
        }
        addresses[count++] = address;
    }

    /** How many nodes this compute node removed. */
    public synchronized int count() {
        return count;
    }

    /** The removed nodes' addresses, oldest first. */
    public synchronized long[] addresses() {
        return Arrays.copyOf(addresses, count);
    }
}
