package io.dmtree.core.tree;

import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.GlobalAddress;

/**
 * A compute node's allocator of tree nodes: it obtains chunks from the memory nodes' control
 * plane and bump-allocates node-sized blocks inside them, rotating over memory nodes so the tree
 * spreads across them. Nodes are never freed.
 */
public final class NodeAllocator {
    private final ChunkSource chunks;
    private final int nodeBytes;
    private final long[] cursor;
    private final long[] remaining;
    private int next;

    public NodeAllocator(ChunkSource chunks, int memoryNodes, int nodeBytes, int firstMemoryNode) {
        if (chunks.chunkBytes() < nodeBytes) {
            throw new IllegalArgumentException("chunks of " + chunks.chunkBytes() + " bytes cannot hold a "
                    + nodeBytes + "-byte node");
        }
        this.chunks = chunks;
        this.nodeBytes = nodeBytes;
        this.cursor = new long[memoryNodes];
        this.remaining = new long[memoryNodes];
        this.next = Math.floorMod(firstMemoryNode, memoryNodes);
    }

    /** The address of a fresh, zeroed node-sized block. */
    public synchronized long allocate() {
        int mn = next;
        next = (next + 1) % cursor.length;
        if (remaining[mn] < nodeBytes) {
            cursor[mn] = chunks.allocateChunk(mn);
            remaining[mn] = chunks.chunkBytes();
        }
        long address = cursor[mn];
        cursor[mn] = GlobalAddress.plus(address, nodeBytes);
        remaining[mn] -= nodeBytes;
        return address;
    }
}
