package io.dmtree.mn;

import io.dmtree.core.layout.RegionLayout;
import io.dmtree.core.memory.GlobalAddress;

/**
 * A memory node: its region, formatted with the header of {@link RegionLayout}, and the chunk
 * allocator of its control plane, whose chunk table lives in the region ({@link ChunkAllocator}). It spends no CPU on the data path: compute nodes read, write
 * and run atomics on the region through their carrier.
 */
public final class MemoryNode implements AutoCloseable {
    private final int id;
    private final MemoryNodeConfig config;
    private final OffHeapRegion region;
    private final ChunkAllocator chunks;

    public MemoryNode(int id, MemoryNodeConfig config) {
        this(id, config, new OffHeapRegion(config.regionBytes()));
    }

    /**
     * A memory node over a region someone else provides (a shared-memory file mapping), of exactly
     * {@code config.regionBytes()} bytes; it is formatted here.
     */
    public MemoryNode(int id, MemoryNodeConfig config, OffHeapRegion region) {
        if (id < 0 || id >= GlobalAddress.MAX_MEMORY_NODES) {
            throw new IllegalArgumentException("memory node id out of range: " + id);
        }
        if (region.size() != config.regionBytes()) {
            throw new IllegalArgumentException("region of " + region.size() + " bytes for a memory node configured with "
                    + config.regionBytes());
        }
        this.id = id;
        this.config = config;
        this.region = region;
        this.chunks = new ChunkAllocator(region, config.chunkTable());
        format();
    }

    private void format() {
        // the whole header and lock table start zeroed: every lock free, every redo directory
        // entry empty (no member keeps a redo block here yet), no index
        region.zero(0, config.chunkAreaOffset());
        chunks.format(); // every chunk free; its table lies at the region's end
        region.putLongVolatile(RegionLayout.REGION_BYTES_OFFSET, config.regionBytes());
        region.putLongVolatile(RegionLayout.CHUNK_BYTES_OFFSET, config.chunkBytes());
        region.putLongVolatile(RegionLayout.LOCK_TABLE_OFFSET_OFFSET, RegionLayout.LOCK_TABLE_START);
        region.putLongVolatile(RegionLayout.LOCK_TABLE_BYTES_OFFSET, config.lockTableBytes());
        region.putLongVolatile(RegionLayout.CHUNK_AREA_OFFSET_OFFSET, config.chunkAreaOffset());
        region.putLongVolatile(RegionLayout.CHUNK_TABLE_OFFSET_OFFSET, chunks.table().tableOffset());
        region.putLongVolatile(RegionLayout.NODE_ID_AND_FORMAT_OFFSET,
                ((long) id) | ((long) RegionLayout.FORMAT_VERSION << 32));
        region.putLongVolatile(RegionLayout.MAGIC_OFFSET, RegionLayout.MAGIC);
    }

    public int id() {
        return id;
    }

    public MemoryNodeConfig config() {
        return config;
    }

    public OffHeapRegion region() {
        return region;
    }

    /** A fresh, zeroed chunk, pinned in the chunk table: its global address. */
    public long allocateChunk() {
        long offset = chunks.allocate(id);
        region.zero(offset, config.chunkBytes());
        return GlobalAddress.of(id, offset);
    }

    public ChunkAllocator chunks() {
        return chunks;
    }

    @Override
    public void close() {
        region.close();
    }
}
