package io.dmtree.workloads.ycsb;

/** How a workload picks the record an operation touches. */
public enum RequestDistribution {
    /** Scrambled zipfian, theta 0.99: a few records are hot, scattered over the key space. */
    ZIPFIAN,
    /** Every loaded record equally likely. */
    UNIFORM,
    /** Zipfian over recency: the most recently inserted records are the hottest. */
    LATEST;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
