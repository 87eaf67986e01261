package io.dmtree.mn;

import io.dmtree.core.layout.ChunkTableLayout;
import io.dmtree.core.layout.RegionLayout;

/**
 * Sizes of one memory node's region.
 *
 * @param regionBytes    the whole region; more than 2 GiB is fine
 * @param chunkBytes     the unit compute nodes obtain and bump-allocate tree nodes in
 * @param lockTableBytes bytes reserved for lock state at the start of the region
 */
public record MemoryNodeConfig(long regionBytes, long chunkBytes, long lockTableBytes) {
    public static final long DEFAULT_REGION_BYTES = 1L << 30;
    public static final long DEFAULT_CHUNK_BYTES = 8L << 20;
    public static final long DEFAULT_LOCK_TABLE_BYTES = 4L << 20;

    public MemoryNodeConfig {
        if (chunkBytes < 4096 || chunkBytes % RegionLayout.CHUNK_ALIGNMENT != 0) {
            throw new IllegalArgumentException("chunk size must be a positive multiple of 4096 bytes: " + chunkBytes);
        }
        if (lockTableBytes < 64 || lockTableBytes % 64 != 0) {
            throw new IllegalArgumentException("lock table size must be a positive multiple of 64 bytes: " + lockTableBytes);
        }
        long minimum = regionBytesFor(1, chunkBytes, lockTableBytes);
        if (regionBytes < minimum) {
            throw new IllegalArgumentException("region of " + regionBytes + " bytes cannot hold its header, a "
                    + lockTableBytes + "-byte lock table and one " + chunkBytes + "-byte chunk with its chunk table entry (needs "
                    + minimum + ")");
        }
        if (regionBytes % 8 != 0) {
            throw new IllegalArgumentException("region size must be a multiple of 8: " + regionBytes);
        }
    }

    public static MemoryNodeConfig defaults() {
        return new MemoryNodeConfig(DEFAULT_REGION_BYTES, DEFAULT_CHUNK_BYTES, DEFAULT_LOCK_TABLE_BYTES);
    }

    public MemoryNodeConfig withRegionBytes(long bytes) {
        return new MemoryNodeConfig(bytes, chunkBytes, lockTableBytes);
    }

    public long chunkAreaOffset() {
        return RegionLayout.chunkAreaOffset(lockTableBytes);
    }

    /** Chunks in the region: as many as fit with their chunk table ({@link ChunkTableLayout}). */
    public long chunkCount() {
        return ChunkTableLayout.chunksThatFit(regionBytes, chunkAreaOffset(), chunkBytes);
    }

    public ChunkTableLayout chunkTable() {
        return new ChunkTableLayout(chunkAreaOffset(), chunkBytes, chunkCount());
    }

    /** The smallest region that holds {@code chunks} chunks of {@code chunkBytes} and their table. */
    public static long regionBytesFor(long chunks, long chunkBytes, long lockTableBytes) {
        return ChunkTableLayout.regionBytesFor(RegionLayout.chunkAreaOffset(lockTableBytes), chunkBytes, chunks);
    }
}
