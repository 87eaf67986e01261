package io.dmtree.core.lock;


/**
 * A lock context of a compute node that runs on the host of a memory node ({@code alock}'s local
 * cohort). Contexts that do not implement it are remote to every memory node.
 */
public interface HostMemoryContext extends LockContext {
    /** The memory node on this CN's host. */
    int hostMemoryNode();

    HostMemory hostMemory();
}
