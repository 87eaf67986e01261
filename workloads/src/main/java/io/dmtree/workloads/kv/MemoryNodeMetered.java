package io.dmtree.workloads.kv;

import io.dmtree.cn.DmIndex;
import io.dmtree.core.memory.VerbCounts;

/**
 * A system under test whose memory node traffic and index cache can be read: dmtree, embedded or
 * as a compute-node process. The runner reads both before and after the run phase.
 */
public interface MemoryNodeMetered {
    /** Verbs, bytes and round trips this system's compute nodes sent to the memory nodes so far. */
    VerbCounts memoryNodeTraffic();

    /** Index cache hits and misses summed over this system's compute nodes so far. */
    DmIndex.CacheStats cacheStats();

    /**
     * Where the memory nodes' chunk areas went, from a check of the quiescent index (null when this
     * system cannot tell, such as a compute-node process that sees only its share).
     */
    default io.dmtree.core.tree.RegionUse regionUse() {
        return null;
    }
}
