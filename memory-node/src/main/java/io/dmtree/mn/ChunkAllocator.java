package io.dmtree.mn;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands out the chunks of a region's chunk area, each once, in address order. Chunks are never
 * returned: tree nodes are not freed (deleted keys leave room in their leaves).
 */
public final class ChunkAllocator {
    private final long areaOffset;
    private final long chunkBytes;
    private final long chunkCount;
    private final AtomicLong next = new AtomicLong();

    public ChunkAllocator(long areaOffset, long chunkBytes, long chunkCount) {
        this.areaOffset = areaOffset;
        this.chunkBytes = chunkBytes;
        this.chunkCount = chunkCount;
    }

    /** The offset of a fresh chunk. */
    public long allocate(int memoryNodeId) {
        long index = next.getAndIncrement();
        if (index >= chunkCount) {
            next.decrementAndGet();
            throw new OutOfMemoryNodeSpaceException("memory node " + memoryNodeId + " has no free chunk left (all "
                    + chunkCount + " chunks of " + chunkBytes + " bytes are in use); give it a larger region");
        }
        return areaOffset + index * chunkBytes;
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    public long allocated() {
        return next.get();
    }

    public long capacity() {
        return chunkCount;
    }
}
