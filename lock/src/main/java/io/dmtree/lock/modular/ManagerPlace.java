package io.dmtree.lock.modular;

/** Where a lock manager runs: in memory-node memory (driven by one-sided verbs) or on the compute nodes. */
public enum ManagerPlace {
    MEMORY_NODE, COMPUTE_NODE
}
