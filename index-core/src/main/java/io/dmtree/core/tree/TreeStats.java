package io.dmtree.core.tree;

import java.util.concurrent.atomic.LongAdder;

/** Event counters of one compute node's tree: how often each retry path ran. */
public final class TreeStats {
    /** Node reads whose checksum failed (torn by a concurrent write) and were retried. */
    public final LongAdder tornReads = new LongAdder();
    /** B-link moves to a right sibling because the key was at or above a node's high fence. */
    public final LongAdder siblingMoves = new LongAdder();
    /** Traversals restarted from the root after landing on a node that cannot hold the key. */
    public final LongAdder restarts = new LongAdder();
    public final LongAdder leafSplits = new LongAdder();
    public final LongAdder internalSplits = new LongAdder();
    public final LongAdder rootGrowths = new LongAdder();
    /** Leaves merged into their left neighbour (the right one removed). */
    public final LongAdder leafMerges = new LongAdder();
    public final LongAdder internalMerges = new LongAdder();
    /** Roots with a single child removed, the child becoming the root. */
    public final LongAdder rootShrinks = new LongAdder();
    /** Removed nodes a traversal reached (through a stale cached parent or an earlier read) and left. */
    public final LongAdder removedReached = new LongAdder();
    /** Nodes a traversal reached that were born after its pointer's era (a reused block, or a new node) and left. */
    public final LongAdder reusedReached = new LongAdder();

    @Override
    public String toString() {
        return "torn reads " + tornReads.sum() + ", sibling moves " + siblingMoves.sum() + ", restarts "
                + restarts.sum() + ", leaf splits " + leafSplits.sum() + ", internal splits " + internalSplits.sum()
                + ", root growths " + rootGrowths.sum() + ", leaf merges " + leafMerges.sum() + ", internal merges "
                + internalMerges.sum() + ", root shrinks " + rootShrinks.sum() + ", removed nodes reached "
                + removedReached.sum() + ", reused nodes reached " + reusedReached.sum();
    }
}
