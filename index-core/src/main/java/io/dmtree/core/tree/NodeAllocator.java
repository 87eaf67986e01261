package io.dmtree.core.tree;

import io.dmtree.core.memory.ChunkSource;
import io.dmtree.core.memory.GlobalAddress;

/**
 * A compute node's allocator of tree nodes: it obtains chunks from the memory nodes' control
 * plane and bump-allocates node-sized blocks inside them, rotating over memory nodes so the tree
 * spreads across them. Nodes are never freed. Other per-member blocks (a {@link RedoLog}'s) come
 * from the same chunks, rounded to 64 bytes so nodes stay cache-line aligned.
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

    public long chunkBytes() {
        return chunks.chunkBytes();
    }

    /**
     * The address of a fresh, zeroed block of {@code bytes} (rounded up to 64) on memory node
     * {@code mn}; it must fit in one chunk.
     */
    public synchronized long allocateBlock(int mn, long bytes) {
        if (mn < 0 || mn >= cursor.length) {
            throw new IllegalArgumentException("no memory node " + mn);
        }
        long size = (bytes + 63) & ~63L;
        if (size <= 0 || size > chunks.chunkBytes()) {
            throw new IllegalArgumentException("a block of " + bytes + " bytes does not fit in a chunk of "
                    + chunks.chunkBytes() + " bytes");
        }
        if (remaining[mn] < size) {
            cursor[mn] = chunks.allocateChunk(mn);
            remaining[mn] = chunks.chunkBytes();
        }
        long address = cursor[mn];
        cursor[mn] = GlobalAddress.plus(address, size);
        remaining[mn] -= size;
        return address;
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
