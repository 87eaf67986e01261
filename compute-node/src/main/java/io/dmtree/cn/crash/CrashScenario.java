package io.dmtree.cn.crash;

import io.dmtree.core.tree.TreeStats;

/** What a tree operation of a crash-point sweep did, told from its kind and the tree's event counters. */
public enum CrashScenario {
    INSERT("insert"),
    UPDATE("update"),
    DELETE("delete"),
    LEAF_SPLIT("leaf split"),
    INTERNAL_SPLIT("internal split"),
    ROOT_GROWTH("root growth"),
    /** A delete that merged leaves (and no internal node). */
    LEAF_MERGE("leaf merge"),
    /** A delete whose merges reached an internal level (and did not shrink the root). */
    INTERNAL_MERGE("internal merge"),
    /** A delete whose merges ended in a root shrink. */
    ROOT_SHRINK("root shrink");

    private final String label;

    CrashScenario(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Event counters of a tree, to difference around one operation. */
    record Events(long leafSplits, long internalSplits, long rootGrowths, long leafMerges, long internalMerges,
                  long rootShrinks) {
        static Events of(TreeStats stats) {
            return new Events(stats.leafSplits.sum(), stats.internalSplits.sum(), stats.rootGrowths.sum(),
                    stats.leafMerges.sum(), stats.internalMerges.sum(), stats.rootShrinks.sum());
        }
    }

    /** The scenario of an operation that ran between {@code before} and {@code after}. */
    static CrashScenario classify(boolean put, boolean keyWasPresent, Events before, Events after) {
        if (after.rootShrinks() > before.rootShrinks()) {
            return ROOT_SHRINK;
        }
        if (after.internalMerges() > before.internalMerges()) {
            return INTERNAL_MERGE;
        }
        if (after.leafMerges() > before.leafMerges()) {
            return LEAF_MERGE;
        }
        if (after.rootGrowths() > before.rootGrowths()) {
            return ROOT_GROWTH;
        }
        if (after.internalSplits() > before.internalSplits()) {
            return INTERNAL_SPLIT;
        }
        if (after.leafSplits() > before.leafSplits()) {
            return LEAF_SPLIT;
        }
        if (!put) {
            return DELETE;
        }
        return keyWasPresent ? UPDATE : INSERT;
    }
}
