package io.dmtree.cn.replica;

import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.GlobalAddress;

/**
 * Chunks of replicated regions: a chunk of region {@code r} is allocated on every replica of
 * {@code r} at once, so each replica's allocator has handed out the same chunks and a promoted
 * mirror goes on allocating after the last chunk any compute node was given. Every replica starts
 * with the same allocator state and is asked in the same order (one region's allocations are
 * serialised here), so the offsets agree; a disagreement is an error, never papered over.
 *
 * <p>This serialisation covers the compute nodes sharing this source (the embedded cluster); a
 * control plane shared by separate compute-node processes must decide the chunk on the primary and
 * reserve it on the mirrors instead.
 */
public final class ReplicatedChunkSource implements ChunkSource {
    private final ChunkSource replicas;
    private final ReplicatingVerbs verbs;
    private final Object[] regionLocks;

    /**
     * @param replicas chunk source of the memory-node processes
     * @param verbs    the replicating verbs whose placement says where each region lives
     */
    public ReplicatedChunkSource(ChunkSource replicas, ReplicatingVerbs verbs) {
        this.replicas = replicas;
        this.verbs = verbs;
        this.regionLocks = new Object[verbs.placement().regions()];
        for (int i = 0; i < regionLocks.length; i++) {
            regionLocks[i] = new Object();
        }
    }

    @Override
    public long allocateChunk(int region) {
        ReplicaPlacement p = verbs.placement();
        if (region < 0 || region >= p.regions()) {
            throw new IllegalArgumentException("no region " + region + "; the placement has " + p.regions());
        }
        synchronized (regionLocks[region]) {
            long offset = GlobalAddress.offset(replicas.allocateChunk(p.primary(region)));
            for (int k = 1; k < p.replicaCount(region); k++) {
                long mirror = GlobalAddress.offset(replicas.allocateChunk(p.replica(region, k)));
                if (mirror != offset) {
                    throw new IllegalStateException("replica " + p.replica(region, k) + " of region " + region
                            + " allocated its chunk at 0x" + Long.toHexString(mirror) + ", the primary at 0x"
                            + Long.toHexString(offset) + ": the replicas' allocators diverged");
                }
            }
            return GlobalAddress.of(region, offset);
        }
    }

    @Override
    public long chunkBytes() {
        return replicas.chunkBytes();
    }

    @Override
    public long lockTableOffset() {
        return replicas.lockTableOffset();
    }

    @Override
    public long lockTableBytes() {
        return replicas.lockTableBytes();
    }
}
