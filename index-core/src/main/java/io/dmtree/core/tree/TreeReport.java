package io.dmtree.core.tree;

import java.util.List;

/**
 * What the tree checker found: the shape of the tree and every violated invariant.
 *
 * @param height        levels, leaves included
 * @param nodesPerLevel nodes on each level, leaves first
 * @param keys          keys in the leaves
 * @param problems      one line per violated invariant; empty when the tree is sound
 * @param region        where the region bytes went (null when the tree could not be walked)
 */
public record TreeReport(int height, List<Integer> nodesPerLevel, long keys, List<String> problems, RegionUse region) {
    public TreeReport(int height, List<Integer> nodesPerLevel, long keys, List<String> problems) {
        this(height, nodesPerLevel, keys, problems, null);
    }

    /** Leaked region bytes (0 when unknown). */
    public long leakedBytes() {
        return region == null ? 0 : region.leaked();
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    @Override
    public String toString() {
        return (ok() ? "tree ok" : "tree BROKEN (" + problems.size() + " problems)") + ": height " + height
                + ", nodes per level (leaves first) " + nodesPerLevel + ", " + keys + " keys"
                + (region == null ? "" : "; " + region)
                + (ok() ? "" : "\n  " + String.join("\n  ", problems.subList(0, Math.min(20, problems.size()))));
    }
}
