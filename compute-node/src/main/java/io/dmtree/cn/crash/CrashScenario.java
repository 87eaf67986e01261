package io.dmtree.cn.crash;

import io.dmtree.core.tree.TreeStats;

/** What a tree operation of a crash-point sweep did, told from its kind and the tree's event counters. */
public enum CrashScenario {
    INSERT("insert"),
    UPDATE("update"),
    DELETE("delete"),
    LEAF_SPLIT("leaf split"),
    INTERNAL_SPLIT("internal split"),
    ROOT_GROWTH("root growth");

    private final String label;

    CrashScenario(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Event counters of a tree, to difference around one operation. */
    record Events(long leafSplits, long internalSplits, long rootGrowths) {
        static Events of(TreeStats stats) {
            return new Events(stats.leafSplits.sum(), stats.internalSplits.sum(), stats.rootGrowths.sum());
        }
    }

    /** The scenario of an operation that ran between {@code before} and {@code after}. */
    static CrashScenario classify(boolean put, boolean keyWasPresent, Events before, Events after) {
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
