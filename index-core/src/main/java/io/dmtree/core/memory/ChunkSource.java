package io.dmtree.core.memory;

/**
 * The control-plane call a compute node makes to obtain MN memory for tree nodes: one zeroed
 * chunk at a time from a chosen memory node, which the compute node then bump-allocates in.
 */
public interface ChunkSource {
    /** The global address of a fresh zeroed chunk on memory node {@code mn}. */
    long allocateChunk(int mn);

    /** Bytes per chunk (the same on every memory node). */
    long chunkBytes();

    /** Offset of the lock table in every memory node's region, and its size. */
    long lockTableOffset();

    long lockTableBytes();
}
