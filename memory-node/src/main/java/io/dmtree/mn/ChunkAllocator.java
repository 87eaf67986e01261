package io.dmtree.mn;

import io.dmtree.core.layout.RegionLayout;

/**
 * Hands out the chunks of a region's chunk area, each once, in address order. Chunks are never
 * returned: tree nodes are not freed (deleted keys leave room in their leaves).
 *
 * <p>Its whole state is one word of region memory, the count of chunks handed out
 * ({@link RegionLayout#CHUNKS_ALLOCATED_OFFSET}), advanced by compare-and-swap, so a memory node
 * restarted from its region's bytes (a durable region) continues where the last one stopped and
 * never hands a chunk out twice. Invariant: the word only grows, and never beyond the chunk count;
 * every chunk below it was handed out at most once.
 */
public final class ChunkAllocator {
    private final OffHeapRegion region;
    private final long areaOffset;
    private final long chunkBytes;
    private final long chunkCount;

    public ChunkAllocator(OffHeapRegion region, long areaOffset, long chunkBytes, long chunkCount) {
        this.region = region;
        this.areaOffset = areaOffset;
        this.chunkBytes = chunkBytes;
        this.chunkCount = chunkCount;
    }

    /** The offset of a fresh chunk. */
    public long allocate(int memoryNodeId) {
        while (true) {
            long index = region.getLongVolatile(RegionLayout.CHUNKS_ALLOCATED_OFFSET);
            if (index >= chunkCount) {
                throw new OutOfMemoryNodeSpaceException("memory node " + memoryNodeId + " has no free chunk left (all "
                        + chunkCount + " chunks of " + chunkBytes + " bytes are in use); give it a larger region");
            }
            if (region.compareAndSwap(RegionLayout.CHUNKS_ALLOCATED_OFFSET, index, index + 1) == index) {
                return areaOffset + index * chunkBytes;
            }
            // another allocation took this index: read the count again
        }
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    public long allocated() {
        return region.getLongVolatile(RegionLayout.CHUNKS_ALLOCATED_OFFSET);
    }

    public long capacity() {
        return chunkCount;
    }
}
