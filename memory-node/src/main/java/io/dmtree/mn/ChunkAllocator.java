package io.dmtree.mn;

import io.dmtree.core.layout.ChunkTableLayout;

/**
 * The memory node's side of its region's chunk table ({@link ChunkTableLayout}): it claims free
 * chunks for its control plane, pinned (a chunk handed out whole for a shared object, such as a
 * counter word, is never reclaimed), by CAS on the owner word in region memory, so its claims and
 * the compute nodes' one-sided claims of the same words exclude each other. All state is the
 * table itself: nothing here needs to survive but the region.
 */
public final class ChunkAllocator {
    private final OffHeapRegion region;
    private final ChunkTableLayout table;
    private final long pinnedWord = ChunkTableLayout.word(ChunkTableLayout.CHUNK_PINNED, 0, 0);
    private long hint;

    public ChunkAllocator(OffHeapRegion region, ChunkTableLayout table) {
        this.region = region;
        this.table = table;
    }

    /** Zeroes the chunk table: every chunk free, every block word reserve. */
    void format() {
        region.zero(table.tableOffset(), table.tableBytes());
    }

    /** The offset of a fresh chunk, claimed pinned (it is zeroed by the caller). */
    public synchronized long allocate(int memoryNodeId) {
        long n = table.chunkCount();
        for (long k = 0; k < n; k++) {
            long c = (hint + k) % n;
            long owner = table.ownerWord(c);
            if (region.getLongVolatile(owner) == 0 && region.compareAndSwap(owner, 0, pinnedWord) == 0) {
                hint = c + 1;
                return table.chunkOffset(c);
            }
        }
        throw new OutOfMemoryNodeSpaceException("memory node " + memoryNodeId + " has no free chunk left (all "
                + n + " chunks of " + table.chunkBytes() + " bytes are in use); give it a larger region");
    }

    public long chunkBytes() {
        return table.chunkBytes();
    }

    /** Chunks not free now (pinned, owned by a member, or adopted). */
    public long allocated() {
        long used = 0;
        for (long c = 0; c < table.chunkCount(); c++) {
            if (region.getLongVolatile(table.ownerWord(c)) != 0) {
                used++;
            }
        }
        return used;
    }

    public long capacity() {
        return table.chunkCount();
    }

    public ChunkTableLayout table() {
        return table;
    }
}
